using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

// More variables than the OSR compiler has registers (spilled to its
// frame) and four awaits whose continuations carry different locals.
class Program
{
    static int s_value;
    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(10000, 12, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, int m, NullAwaiter na)
    {
        int a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, p = 9, q = 10, r = 11, s = 12, u = 13;
        for (int i = 0; i < n; i++)
        {
            a += b; b += c; c += d; d += e; e += f; f += g; g += h;
            h += p; p += q; q += r; r += s; s += u; u += a ^ i;
        }
        for (int k = 0; k < m; k++)
        {
            await na;
            a += k;
            int t1 = a * 3;
            await na;
            b += t1;
            await na;
            c += a + b + d + e + f + g + h + p + q + r + s + u;
            await na;
        }
        s_value = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ p ^ q ^ r ^ s ^ u;
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
