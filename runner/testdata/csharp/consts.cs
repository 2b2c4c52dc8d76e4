using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Class constants are workload parameters; nested if/else chains.
class Program
{
    const int Iterations = 10800;
    const int Awaits = 15;
    const int Limit = -5;
    static int s_value;
    static int s_neg;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(NullAwaiter na)
    {
        for (int i = 0; i < Iterations; i++)
        {
            if (i % 3 == 0)
                s_value += 3;
            else if (i % 3 == 1)
            {
                if (i > 5000)
                    s_value -= 1;
                else
                    s_value += 2;
            }
            else
                s_neg += Limit;
        }
        for (int k = 0; k < Awaits; k++)
            await na;
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
