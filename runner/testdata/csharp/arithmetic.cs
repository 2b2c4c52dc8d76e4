using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Wrap-around arithmetic, / and % with negative operands (truncating),
// multiplication overflow, unary minus and complement.
class Program
{
    static int s_value;
    static int s_min;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10300, -7, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int d, NullAwaiter na)
    {
        int acc = 2147483600;
        for (int i = 1; i < n; i++)
        {
            acc += i * 65537;
            acc = acc / d + acc % (i + 3) - -i;
            acc = ~acc * 3;
        }
        await na;
        s_value = acc;
        s_min = -2147483647 - 1;
        s_min = s_min / 2 + s_min % 5;
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
