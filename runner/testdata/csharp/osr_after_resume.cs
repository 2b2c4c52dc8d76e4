using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// The method suspends in tier0 first; after the resume (in tier0) its loop
// runs long enough for the patchpoint to trigger OSR, with a tier0
// continuation still in the home slot: the OSR method must ignore it.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(15000, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int x = 3;
        await na;
        for (int i = 0; i < n; i++)
            x += i % 13;
        s_value = x;
        await na;
        s_value += x;
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
