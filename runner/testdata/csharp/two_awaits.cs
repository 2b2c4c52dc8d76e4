using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Two suspension points: the dispatch branches on State != 0.
class Program
{
    static int s_value;
    static int s_other;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(11000, 25, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        int x = 7;
        for (int i = 0; i < n; i++)
            x = x * 5 + i;
        s_value = x;
        for (int k = 0; k < m; k++)
        {
            await na;
            s_other += k * x;
            await na;
            x -= k;
        }
        s_value += x;
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
