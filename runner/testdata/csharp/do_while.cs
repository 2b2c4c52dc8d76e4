using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// do loops: the head is the top of the body; OSR triggers in one, awaits
// in another.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(11000, 20, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        int i = 0, x = 1;
        do
        {
            x = x * 7 + i;
            i++;
        } while (i < n);
        int k = 0;
        do
        {
            await na;
            x ^= k;
            k++;
        } while (k < m);
        s_value = x;
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
