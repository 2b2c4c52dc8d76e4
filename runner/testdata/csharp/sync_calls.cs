using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// reentry as C#: a synchronous method called many times whose loop reaches
// its patchpoint on each call once OSR code exists.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Run(40, 1500, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Run(int calls, int iterations, NullAwaiter na)
    {
        for (int c = 0; c < calls; c++)
        {
            s_value += Bar(iterations, c);
            if (c % 10 == 9)
                await na;
        }
    }

    static int Bar(int n, int salt)
    {
        int sum = salt;
        for (int i = 0; i < n; i++)
            sum += i;
        return sum;
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
