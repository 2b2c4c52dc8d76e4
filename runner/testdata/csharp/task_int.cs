using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// An async Task<int> entry method: the result comes back through the task;
// the return sits inside a loop, after awaits.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task<int> t = Foo(10600, 30, na);
        while (!t.IsCompleted)
            na.Continue();
        Console.WriteLine(t.Result);
    }

    static async Task<int> Foo(int n, int m, NullAwaiter na)
    {
        int x = 0;
        for (int i = 0; i < n; i++)
            x += i * i;
        for (int k = 0; ; k++)
        {
            await na;
            x -= k;
            if (k == m)
                return x;
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
