// The benchmark of dotnet/runtime#123757 (merged as #127074), as C#: Foo
// gets into OSR in its first loop, then awaits an awaiter that never
// completes synchronously; every resumption goes tier0 -> OSR method.
// The PR's second loop runs to the literal 10_000_000; here it is the
// constant Awaits, so that osrsim can emulate it at a smaller scale
// (osrsim run experiments/seed.cs --set emulation.Awaits=10000).
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

namespace OSRPerf
{
    public class Program
    {
        static int s_value;
        const int Awaits = 10_000_000;

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

            Stopwatch timer = Stopwatch.StartNew();
            for (int i = 0; i < Awaits; i++)
                await na;

            Console.WriteLine("Took {0:F1} ms", timer.Elapsed.TotalMilliseconds);
        }

        private class NullAwaiter : ICriticalNotifyCompletion
        {
            private Action _continuation;

            public bool IsCompleted => false;
            public NullAwaiter GetAwaiter() => this;
            public void GetResult() { }
            public void OnCompleted(Action continuation) => _continuation = continuation;
            public void UnsafeOnCompleted(Action continuation) => _continuation = continuation;

            public void Continue()
            {
                Action c = _continuation;
                _continuation = null;
                c();
            }
        }
    }
}
