package dev.performer.cli;

import dev.performer.attention.Attention;
import dev.performer.attention.Dims;
import dev.performer.attention.ExactAttention;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.FeatureKind;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.IdentityAttention;
import dev.performer.attention.Projection;
import dev.performer.io.Npy;
import dev.performer.kernel.Kernels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/** {@code performer attention}: one attention call on .npy inputs. */
final class AttentionCommand {

    static final String HELP = """
            usage: performer attention --q Q.npy --k K.npy --v V.npy --out DIR
                     [--kernel exact|softmax|softmax-hyp|softmax-trig|relu|elu|exp|abs|identity|x-opt]
                     [--projection W.npy | --features M --seed S [--projection-type orthogonal|iid]]
                     [--no-projection] [--causal] [--eps E] [--key-mask MASK.npy] [--dout DOUT.npy]
                     [--backend scalar|vector|openblas] [--threads N]

            Computes attention of q (B,H,Lq,D) over k, v (B,H,Lk,D) and writes DIR/out.npy (float32).
            With --dout (B,H,Lq,D) it also writes DIR/dq.npy, DIR/dk.npy, DIR/dv.npy: the gradients of
            sum(out * dout). Inputs may be float32 or float64 (C order); all compute is float32.

              --kernel       exact: softmax(q k^T/sqrt(D)) v.  softmax: FAVOR+ with positive features
                             (SM+, the default).  softmax-hyp: SMhyp+.  softmax-trig: SM-trig.
                             relu, elu, exp, abs, identity: generalized attention f(W x~) + eps.
                             x-opt: identity attention that returns v (the paper's 'X (OPT)').
              --projection   W (M,D) to use as is (e.g. to compare with a Python implementation).
              --features M   draw W with M rows from --seed S (default M 256, seed 0), orthogonal
                             blocks with chi(D) row lengths (or --projection-type iid); the drawn W is
                             written to DIR/projection.npy.
              --no-projection  generalized kernels only: f(x~) + eps on the inputs themselves (M = D).
              --causal       query i attends to keys j <= i (needs Lq = Lk).
              --eps E        added inside the features (default 1e-6 for softmax kernels, 1e-3 otherwise).
              --key-mask     (B,Lk) with 1 = keep, 0 = padding: padded keys enter neither the
                             numerator nor the denominator.

            Convention (matches shared/golden): x~ = x D^-1/4, u = x~ W^T, ratio = M^-1/2;
            phi(q) = ratio (exp(u - |x~|^2/2 - max_m u) + eps), phi(k) the same with one max per batch
            and head; nothing is added to the denominators.

            example:
              performer attention --q q.npy --k k.npy --v v.npy --features 256 --seed 7 --causal \\
                  --dout dout.npy --out result
            """;

    private static final Set<String> KERNELS = Set.of("exact", "softmax", "softmax-hyp", "softmax-trig", "relu", "elu",
            "exp", "abs", "identity", "x-opt");

    private AttentionCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws IOException {
        Args a = Args.parse("attention", argv,
                Set.of("q", "k", "v", "out", "kernel", "projection", "features", "seed", "projection-type", "eps",
                        "key-mask", "dout", "backend", "threads"),
                Set.of("causal", "no-projection"));
        String kernel = a.choice("kernel", "softmax", KERNELS);
        boolean causal = a.has("causal");
        Path outDir = Path.of(a.required("out"));
        Npy.Array qa = read(a.required("q")), ka = read(a.required("k")), va = read(a.required("v"));
        String qn = a.required("q"), kn = a.required("k"), vn = a.required("v");
        need4d(qn, qa);
        need4d(kn, ka);
        need4d(vn, va);
        int b = qa.shape()[0], h = qa.shape()[1], lq = qa.shape()[2], d = qa.shape()[3], lk = ka.shape()[2];
        if (ka.shape()[0] != b || ka.shape()[1] != h || ka.shape()[3] != d)
            throw new UsageException(kn + ": shape " + ka.shapeString() + " does not match q " + qa.shapeString()
                    + " in B, H or D");
        if (!Arrays.equals(ka.shape(), va.shape()))
            throw new UsageException(vn + ": shape " + va.shapeString() + " must equal k's " + ka.shapeString());
        if (causal && lq != lk) throw new UsageException("--causal needs Lq = Lk, got q " + qa.shapeString() + " and k " + ka.shapeString());
        if (kernel.equals("x-opt") && lq != lk) throw new UsageException("--kernel x-opt needs Lq = Lk");
        finite(qn, qa);
        finite(kn, ka);
        finite(vn, va);
        float[] mask = null;
        if (a.given("key-mask")) {
            String mn = a.str("key-mask", null);
            Npy.Array ma = read(mn);
            if (ma.shape().length != 2 || ma.shape()[0] != b || ma.shape()[1] != lk)
                throw new UsageException(mn + ": expected shape (B,Lk) = (" + b + "," + lk + "), got " + ma.shapeString());
            for (int i = 0; i < ma.data().length; i++)
                if (ma.data()[i] != 0 && ma.data()[i] != 1)
                    throw new UsageException(mn + ": key mask values must be 0 or 1, found " + ma.data()[i] + " at " + index(ma.shape(), i));
            mask = ma.toFloats();
        }
        float[] dout = null;
        if (a.given("dout")) {
            String dn = a.str("dout", null);
            Npy.Array da = read(dn);
            if (!Arrays.equals(da.shape(), qa.shape()))
                throw new UsageException(dn + ": shape " + da.shapeString() + " must equal q's " + qa.shapeString());
            finite(dn, da);
            dout = da.toFloats();
        }
        if (a.given("projection") && (a.given("features") || a.given("seed") || a.given("projection-type")))
            throw new UsageException("give either --projection W.npy or --features/--seed, not both");

        try (Kernels kern = Cli.kernels(a)) {
            Attention att;
            float[] drawn = null;
            if (kernel.equals("exact")) {
                att = new ExactAttention(kern, causal);
            } else if (kernel.equals("x-opt")) {
                att = new IdentityAttention(causal);
            } else {
                FeatureMap map = FeatureKind.of(kernel).map((float) a.dbl("eps", FeatureKind.of(kernel).defaultEps()));
                if (a.has("no-projection")) {
                    if (map.kind() != FeatureMap.Kind.GENERALIZED)
                        throw new UsageException("--no-projection applies to relu, elu, exp, abs and identity only");
                    if (a.given("projection") || a.given("features"))
                        throw new UsageException("--no-projection takes no --projection or --features");
                    att = new FavorAttention(kern, map.withoutProjection(), null, 0, d, causal);
                } else {
                    float[] w;
                    int m;
                    if (a.given("projection")) {
                        String wn = a.str("projection", null);
                        Npy.Array wa = read(wn);
                        if (wa.shape().length != 2 || wa.shape()[1] != d)
                            throw new UsageException(wn + ": expected shape (M," + d + "), got " + wa.shapeString());
                        finite(wn, wa);
                        m = wa.shape()[0];
                        if (m < 1) throw new UsageException(wn + ": M must be >= 1");
                        w = wa.toFloats();
                    } else {
                        m = a.integer("features", 256, 1);
                        Projection.Type type = a.choice("projection-type", "orthogonal", Set.of("orthogonal", "iid")).equals("iid")
                                ? Projection.Type.IID : Projection.Type.ORTHOGONAL;
                        w = Projection.draw(type, Projection.Scaling.CHI, m, d, a.longValue("seed", 0));
                        drawn = w;
                    }
                    att = new FavorAttention(kern, map, w, m, d, causal);
                }
            }
            Dims dims = new Dims(b, h, lq, lk, d);
            float[] q = qa.toFloats(), k = ka.toFloats(), v = va.toFloats();
            float[] o = new float[dims.qSize()];
            long t0 = System.nanoTime();
            Attention.Saved saved = att.forward(dims, q, k, v, mask, o);
            double fwdMs = (System.nanoTime() - t0) / 1e6;
            Files.createDirectories(outDir);
            Npy.writeFloat32(outDir.resolve("out.npy"), qa.shape(), o);
            if (drawn != null) Npy.writeFloat32(outDir.resolve("projection.npy"), new int[]{drawn.length / d, d}, drawn);
            out.printf("%s: q %s, k %s -> %s (forward %.1f ms, %s)%n", att.name(), qa.shapeString(), ka.shapeString(),
                    outDir.resolve("out.npy"), fwdMs, kern.name());
            if (dout != null) {
                float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
                t0 = System.nanoTime();
                att.backward(saved, dout, dq, dk, dv);
                double bwdMs = (System.nanoTime() - t0) / 1e6;
                Npy.writeFloat32(outDir.resolve("dq.npy"), qa.shape(), dq);
                Npy.writeFloat32(outDir.resolve("dk.npy"), ka.shape(), dk);
                Npy.writeFloat32(outDir.resolve("dv.npy"), va.shape(), dv);
                out.printf("gradients of sum(out*dout) -> dq.npy, dk.npy, dv.npy (backward %.1f ms)%n", bwdMs);
            }
        }
        return 0;
    }

    static Npy.Array read(String file) throws IOException {
        Npy.Array x = Npy.read(Path.of(file));
        if (!x.dtype().endsWith("f4") && !x.dtype().endsWith("f8") && !x.dtype().endsWith("b1")
                && !x.dtype().matches("[<>|][iu][1248]"))
            throw new UsageException(file + ": dtype " + x.dtype() + " is not supported");
        return x;
    }

    static void need4d(String name, Npy.Array x) {
        if (x.shape().length != 4) throw new UsageException(name + ": expected shape (B,H,L,D), got " + x.shapeString());
        for (int s : x.shape()) if (s < 1) throw new UsageException(name + ": empty dimension in shape " + x.shapeString());
        if (!x.dtype().endsWith("f4") && !x.dtype().endsWith("f8"))
            throw new UsageException(name + ": dtype " + x.dtype() + ", expected float32 or float64");
    }

    static void finite(String name, Npy.Array x) {
        double[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            if (!Double.isFinite(d[i]) || (x.dtype().endsWith("f8") && !Float.isFinite((float) d[i])))
                throw new UsageException(name + ": non-finite value " + d[i] + (Double.isFinite(d[i]) ? " (overflows float32)" : "")
                        + " at index " + index(x.shape(), i));
        }
    }

    static String index(int[] shape, int flat) {
        int[] idx = new int[shape.length];
        for (int j = shape.length - 1; j >= 0; j--) { idx[j] = flat % shape[j]; flat /= shape[j]; }
        StringBuilder sb = new StringBuilder("(");
        for (int j = 0; j < idx.length; j++) sb.append(j > 0 ? "," : "").append(idx[j]);
        return sb.append(")").toString();
    }
}
