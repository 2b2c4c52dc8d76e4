using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// The measured region is between Stopwatch.StartNew() and the use of
// Elapsed: per-resume figures count the awaits inside it only.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10000, 30, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        await na;
        for (int i = 0; i < n; i++)
            s_value += i;
        var sw = Stopwatch.StartNew();
        for (int k = 0; k < m; k++)
        {
            await na;
            s_value -= k;
        }
        Console.WriteLine($"{sw.ElapsedMilliseconds} ms");
        await na;
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
