using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Each resumption also calls a synchronous method whose loop reaches its
// patchpoint on every call once its OSR code exists (reentry): every
// iteration pays one normal patchpoint transition (where helper-return,
// dotnet/runtime#127213, differs from direct) and one resumption (where
// direct and helper-return, #123757, differ from helper).
namespace OSRPerf
{
    public class Program
    {
        static int s_value;
        const int Awaits = 1_000_000;
        const int Work = 1500; // iterations per call: more than the counter's 1000

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
            {
                s_value += Sum(Work);
                await na;
            }
            Console.WriteLine("Took {0:F1} ms", timer.Elapsed.TotalMilliseconds);
        }

        static int Sum(int n)
        {
            int s = 0;
            for (int k = 0; k < n; k++)
                s += k;
            return s;
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
