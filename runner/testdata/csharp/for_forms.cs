using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// for loops with several initialisers and iterators, without a condition,
// with an existing variable as the loop variable, counting down.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10400, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int a, b;
        for (a = 0, b = n; a < b; a++, b--)
            s_value += a - b;
        for (int i = n; i > 0; i -= 3)
            s_value ^= i;
        int j = 0;
        for (;;)
        {
            if (j >= 50)
                break;
            j += 7;
        }
        await na;
        s_value += j;
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
