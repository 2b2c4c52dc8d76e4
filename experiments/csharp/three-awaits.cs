using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// The PR's benchmark with three suspension points in the awaiting loop:
// the OSR method's resumption dispatch is a switch on the continuation's
// State, and each state restores its own live locals.
namespace OSRPerf
{
    public class Program
    {
        static int s_value;
        const int Iterations = 3_333_333; // 3 awaits each: ~10M resumptions

        static void Main()
        {
            NullAwaiter na = new NullAwaiter();
            Task t = Foo(10_000_000, na);
            while (!t.IsCompleted)
                na.Continue();
        }

        static async Task Foo(int n, NullAwaiter na)
        {
            for (int i = 0; i < n; i++)
                s_value += i;

            int a = 0, b = 0, c = 0;
            Stopwatch timer = Stopwatch.StartNew();
            for (int i = 0; i < Iterations; i++)
            {
                await na;
                a += i;
                await na;
                b ^= a;
                await na;
                c += b;
            }
            Console.WriteLine("Took {0:F1} ms", timer.Elapsed.TotalMilliseconds);
            s_value += a + b + c;
        }

        private class NullAwaiter : ICriticalNotifyCompletion
        {
            private Action _continuation;
            public bool IsCompleted => false;
            public NullAwaiter GetAwaiter() => this;
            public void GetResult() { }
            public void OnCompleted(Action c) => _continuation = c;
            public void UnsafeOnCompleted(Action c) => _continuation = c;
            public void Continue() { Action c = _continuation; _continuation = null; c(); }
        }
    }
}
