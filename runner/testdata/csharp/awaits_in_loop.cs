using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Three awaits in one loop body: the resumption dispatch is a switch.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(12000, 40, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        int a = 1, b = 2, c = 3;
        for (int i = 0; i < n; i++)
            s_value += i;
        for (int k = 0; k < m; k++)
        {
            a += k;
            await na;
            b ^= a;
            await na;
            c = c * 3 + b;
            await na;
        }
        s_value += a + b + c;
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
