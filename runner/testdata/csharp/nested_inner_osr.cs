using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// The outer loop runs a few times, the inner one long enough to trigger OSR:
// the OSR method is compiled for the inner loop's patchpoint and enters
// there; the awaits after it resume in that OSR method.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(3, 6000, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int outer, int inner, NullAwaiter na)
    {
        for (int i = 0; i < outer; i++)
        {
            for (int j = 0; j < inner; j++)
                s_value += j ^ i;
            await na;
            s_value++;
        }
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
