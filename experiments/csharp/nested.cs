using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// The method gets into OSR in the inner loop of a nest, so its OSR method
// is compiled for that inner patchpoint and enters there: it holds the
// rest of the nest and the awaiting nest after it, whose loop variables
// are all live across the await. Every resumption goes into that OSR
// method.
namespace OSRPerf
{
    public class Program
    {
        static int s_value;
        const int Rows = 1000;
        const int Cols = 10_000;

        static void Main()
        {
            NullAwaiter na = new NullAwaiter();
            Task t = Foo(2, 10_000, na);
            while (!t.IsCompleted)
                na.Continue();
        }

        static async Task Foo(int passes, int len, NullAwaiter na)
        {
            for (int p = 0; p < passes; p++)
                for (int k = 0; k < len; k++)
                    s_value += k ^ p;

            Stopwatch timer = Stopwatch.StartNew();
            for (int r = 0; r < Rows; r++)
            {
                for (int c = 0; c < Cols; c += 1000)
                {
                    s_value += r * c;
                    await na;
                }
            }
            Console.WriteLine("Took {0:F1} ms", timer.Elapsed.TotalMilliseconds);
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
