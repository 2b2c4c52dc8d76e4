using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Awaits inside a while (true) left by break and inside a do loop, after
// the method got into OSR through a while loop.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10700, 9, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        int i = 0;
        while (i < n)
        {
            s_value += i;
            i += 1;
        }
        int k = 0;
        while (true)
        {
            await na;
            k++;
            if (k == m)
                break;
        }
        do
        {
            await na;
            k--;
        } while (k > 0);
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
