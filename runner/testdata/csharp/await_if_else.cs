using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Awaits on both paths of an if: each path resumes at its own state with its
// own live locals.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10500, 60, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        int even = 0, odd = 0;
        for (int i = 0; i < n; i++)
            s_value += i & 7;
        for (int k = 0; k < m; k++)
        {
            if ((k & 1) == 0)
            {
                int e = k * 2;
                await na;
                even += e;
            }
            else
            {
                await na;
                odd += k;
            }
        }
        s_value += even * 1000 + odd;
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
