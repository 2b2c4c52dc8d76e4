using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Calls inside expressions (left-to-right evaluation through temps), a
// callee that changes a static the caller reads in the same expression,
// calls as arguments, and calls from the OSR method.
class Program
{
    static int s_value;
    static int s_count;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10200, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int x = 0;
        for (int i = 0; i < n; i++)
            x = x + Tick(i) * Mix(i, x & 255) - s_count + Mix(Tick(1), Tick(2));
        await na;
        s_value = s_count + Tick(x) - s_count;
    }

    static int Tick(int v)
    {
        s_count++;
        return v + s_count;
    }

    static int Mix(int a, int b)
    {
        int r = a;
        for (int k = 0; k < 3; k++)
            r = r * 31 + b;
        return r;
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
