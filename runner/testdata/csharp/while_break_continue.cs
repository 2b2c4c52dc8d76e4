using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// while loops with break and continue, a while (true) left by break, an
// await between them.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(12000, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int i = 0, sum = 0;
        while (i < n)
        {
            i++;
            if (i % 3 == 0)
                continue;
            if (sum > 100000000)
                break;
            sum += i;
        }
        await na;
        while (true)
        {
            sum -= 17;
            if (sum < 0)
                break;
        }
        s_value = sum + i;
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
