using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Three nested loops with OSR triggered in the innermost and awaits at two
// levels: the OSR method enters the innermost loop and has its own
// dispatch over the awaits it holds.
class Program
{
    const int Inner = 1500;
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(4, 3, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int a, int b, NullAwaiter na)
    {
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < b; j++)
            {
                for (int k = 0; k < Inner; k++)
                    s_value += i * 100 + j * 10 + (k & 3);
                await na;
            }
            s_value ^= i;
            await na;
        }
    }

    class NullAwaiter : ICriticalNotifyCompletion
    {
        Action _c;
        public bool IsCompleted => false;
        public NullAwaiter GetAwaiter() => this;
        public void GetResult() { }
        public void OnCompleted(Action c) => _c = c;
        public void UnsafeOnCompleted(Action c) => _c = c;
        public void Continue() { Action c = _c; _c = null; c(); }
    }
}
