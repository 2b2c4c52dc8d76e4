using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// A division by zero after OSR and an await: a run-time error, reported at
// its line and column by the interpreter and by both engines.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10500, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int d = 3;
        for (int i = 0; i < n; i++)
        {
            s_value += i / d;
            if (i == 10200)
                d = 0;
            if (i == 10300)
                await na;
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
