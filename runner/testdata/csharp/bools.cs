using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// bool locals, comparisons stored as bools, && || ! (short-circuit), ==
// and != and & | ^ on bools.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10200, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        bool flip = false;
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            bool small = i < 100;
            bool even = (i & 1) == 0;
            flip = flip != even;
            if (small && even || !small && i % 7 == 0)
                count++;
            if (!(flip | small) ^ (count > 50))
                count += 2;
            bool both = flip & even;
            if (both == small)
                count--;
        }
        await na;
        s_value = count;
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
