using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// return from inside nested loops of an async method, after awaits, while
// running in the OSR method.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(200, 100, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int rows, int cols, NullAwaiter na)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                s_value += r * c;
                if (r == 150 && c == 40)
                {
                    await na;
                    s_value++;
                    return;
                }
            }
            if (r % 50 == 49)
                await na;
        }
        s_value = -1;
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
