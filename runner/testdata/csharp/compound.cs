using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// Every compound assignment on locals and on static fields, ++ and --.
class Program
{
    static int s_value;
    static int s_a = 5, s_b = -3;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10050, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        int x = 1;
        for (int i = 1; i < n; i++)
        {
            x += i; x -= 3; x *= 3; x /= 2; x %= 1000003;
            x <<= 1; x >>= 1; x &= 0x7ffffff; x |= 16; x ^= i;
            s_a += x; s_a -= i; s_a *= 5; s_a /= 3; s_a %= 65536;
            s_a <<= 2; s_a >>= 1; s_a &= x; s_a |= 1; s_a ^= 7;
            s_b++;
            x--;
        }
        await na;
        s_value = x;
        s_b--;
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
