using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Shifts with counts past 31 (masked to 5 bits) and arithmetic right
// shifts of negative numbers; & | ^ on ints.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10100, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int h = 0x5bd1e995;
        for (int i = 0; i < n; i++)
        {
            h ^= h >> 13;
            h = (h << (i & 63)) | (h >> (32 - (i & 31)));
            h = h * 0x5bd1e995 ^ i;
            h &= ~(i << 3);
        }
        await na;
        s_value = h >> 35;
        s_value ^= h;
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
