package dev.performer.cli;

import dev.performer.attention.Attention;
import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Dims;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.FeatureKind;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.Projection;
import dev.performer.io.Npy;
import dev.performer.kernel.Kernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer attention}: one attention call on .npy inputs. */
@Command(name = "attention", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "run an attention on .npy inputs, write out.npy (and gradients with --dout)",
        description = {
            "Computes attention of q (B,H,Lq,D) over k, v (B,H,Lk,D) and writes DIR/out.npy (float32). With --dout "
                + "(B,H,Lq,D) it also writes DIR/dq.npy, DIR/dk.npy, DIR/dv.npy: the gradients of sum(out * dout). "
                + "Inputs may be float32 or float64 (C order); all compute is float32.",
            "",
            "Convention (matches shared/golden): x~ = x D^-1/4, u = x~ W^T, ratio = M^-1/2; phi(q) = ratio (exp(u - "
                + "|x~|^2/2 - max_m u) + eps), phi(k) the same with one max per batch and head; nothing is added to "
                + "the denominators."},
        footerHeading = "%nexample:%n",
        footer = {
            "  performer attention --q q.npy --k k.npy --v v.npy --features 256 --seed 7 --causal \\",
            "      --dout dout.npy --out result"})
final class AttentionCommand extends Options.Command {

    static final class KernelNames extends Options.Choice {
        KernelNames() { super("exact", "softmax", "softmax-hyp", "softmax-trig", "softmax-opt", "relu", "elu", "exp",
                "abs", "identity", "x-opt"); }
    }

    @Option(names = "--q", paramLabel = "Q.npy", required = true, description = "queries (B,H,Lq,D)")
    String qn;

    @Option(names = "--k", paramLabel = "K.npy", required = true, description = "keys (B,H,Lk,D)")
    String kn;

    @Option(names = "--v", paramLabel = "V.npy", required = true, description = "values (B,H,Lk,D)")
    String vn;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "where out.npy (and dq, dk, dv) go")
    Path outDir;

    @Option(names = "--kernel", paramLabel = "KERNEL", defaultValue = "softmax", converter = KernelNames.class,
            completionCandidates = KernelNames.class,
            description = {"${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).",
                "exact: softmax(q k^T/sqrt(D)) v. softmax: FAVOR+ with positive features (SM+). softmax-hyp: SMhyp+. "
                    + "softmax-trig: SM-trig. softmax-opt: OPRF (FAVOR++), A per batch-head (fixed when causal). "
                    + "relu, elu, exp, abs, identity: generalized attention f(W x~) + eps. "
                    + "x-opt: identity attention that returns v (the paper's 'X (OPT)')."})
    String kernel;

    @Option(names = "--projection", paramLabel = "W.npy",
            description = "W (M,D) to use as is (e.g. to compare with a Python implementation)")
    String projection;

    @Option(names = "--features", paramLabel = "M", defaultValue = "256", converter = Options.AtLeast1.class,
            description = "draw W with M rows from --seed (default ${DEFAULT-VALUE}), orthogonal blocks with chi(D) "
                    + "row lengths (or --projection-type iid); the drawn W is written to DIR/projection.npy")
    int features;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "seed of the drawn W (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--projection-type", paramLabel = "TYPE", defaultValue = "orthogonal",
            converter = Options.ProjectionTypes.class, completionCandidates = Options.ProjectionTypes.class,
            description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String projectionType;

    @Option(names = "--no-projection",
            description = "generalized kernels only: f(x~) + eps on the inputs themselves (M = D)")
    boolean noProjection;

    @Option(names = "--causal", description = "query i attends to keys j <= i (needs Lq = Lk)")
    boolean causal;

    @Option(names = "--eps", paramLabel = "E", converter = Options.NonNegative.class,
            description = "added inside the features (default 1e-6 for softmax kernels, 1e-3 otherwise)")
    Double eps;

    @Option(names = "--key-mask", paramLabel = "MASK.npy",
            description = "(B,Lk) with 1 = keep, 0 = padding: padded keys enter neither the numerator nor the "
                    + "denominator")
    String keyMask;

    @Option(names = "--dout", paramLabel = "DOUT.npy",
            description = "(B,H,Lq,D): also write the gradients of sum(out * dout)")
    String doutFile;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        Cli.outputFolder("attention", "--out", outDir);
        Npy.Array qa = read(qn), ka = read(kn), va = read(vn);
        need4d(qn, qa);
        need4d(kn, ka);
        need4d(vn, va);
        int b = qa.shape()[0], h = qa.shape()[1], lq = qa.shape()[2], d = qa.shape()[3], lk = ka.shape()[2];
        if (ka.shape()[0] != b || ka.shape()[1] != h || ka.shape()[3] != d)
            throw new UsageException(kn + ": shape " + ka.shapeString() + " does not match q " + qa.shapeString()
                    + " in B, H or D");
        if (!Arrays.equals(ka.shape(), va.shape()))
            throw new UsageException(vn + ": shape " + va.shapeString() + " must equal k's " + ka.shapeString());
        if (causal && lq != lk) throw new UsageException("--causal needs Lq = Lk, got q " + qa.shapeString()
                + " and k " + ka.shapeString());
        if (kernel.equals("x-opt") && lq != lk) throw new UsageException("--kernel x-opt needs Lq = Lk");
        finite(qn, qa);
        finite(kn, ka);
        finite(vn, va);
        float[] mask = null;
        if (keyMask != null) {
            String mn = keyMask;
            Npy.Array ma = read(mn);
            if (ma.shape().length != 2 || ma.shape()[0] != b || ma.shape()[1] != lk)
                throw new UsageException(mn + ": expected shape (B,Lk) = (" + b + "," + lk + "), got "
                        + ma.shapeString());
            for (int i = 0; i < ma.data().length; i++)
                if (ma.data()[i] != 0 && ma.data()[i] != 1)
                    throw new UsageException(mn + ": key mask values must be 0 or 1, found " + ma.data()[i] + " at "
                            + index(ma.shape(), i));
            mask = ma.toFloats();
        }
        float[] dout = null;
        if (doutFile != null) {
            String dn = doutFile;
            Npy.Array da = read(dn);
            if (!Arrays.equals(da.shape(), qa.shape()))
                throw new UsageException(dn + ": shape " + da.shapeString() + " must equal q's " + qa.shapeString());
            finite(dn, da);
            dout = da.toFloats();
        }
        if (projection != null && (given("--features") || given("--seed") || given("--projection-type")))
            throw new UsageException("give either --projection W.npy or --features/--seed, not both");

        try (Kernels kern = kernels.kernels()) {
            Attention att;
            float[] drawn = null;
            if (kernel.equals("exact")) {
                att = AttentionSpec.exact().build(kern, d, causal, 0);
            } else if (kernel.equals("x-opt")) {
                att = AttentionSpec.identity().build(kern, d, causal, 0);
            } else {
                FeatureMap map = FeatureKind.of(kernel)
                        .map(eps != null ? eps.floatValue() : FeatureKind.of(kernel).defaultEps());
                if (noProjection) {
                    if (map.kind() != FeatureMap.Kind.GENERALIZED)
                        throw new UsageException("--no-projection applies to relu, elu, exp, abs and identity only");
                    if (projection != null || given("--features"))
                        throw new UsageException("--no-projection takes no --projection or --features");
                    att = new FavorAttention(kern, map.withoutProjection(), null, 0, d, causal);
                } else {
                    float[] w;
                    int m;
                    if (projection != null) {
                        String wn = projection;
                        Npy.Array wa = read(wn);
                        if (wa.shape().length != 2 || wa.shape()[1] != d)
                            throw new UsageException(wn + ": expected shape (M," + d + "), got " + wa.shapeString());
                        finite(wn, wa);
                        m = wa.shape()[0];
                        if (m < 1) throw new UsageException(wn + ": M must be >= 1");
                        w = wa.toFloats();
                    } else {
                        m = features;
                        Projection.Type type = projectionType.equals("iid") ? Projection.Type.IID
                                : Projection.Type.ORTHOGONAL;
                        w = Projection.draw(type, Projection.Scaling.CHI, m, d, seed);
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
            if (drawn != null) Npy.writeFloat32(outDir.resolve("projection.npy"), new int[]{drawn.length / d, d},
                    drawn);
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
        if (x.shape().length != 4) throw new UsageException(name + ": expected shape (B,H,L,D), got "
                + x.shapeString());
        for (int s : x.shape()) if (s < 1) throw new UsageException(name + ": empty dimension in shape "
                + x.shapeString());
        if (!x.dtype().endsWith("f4") && !x.dtype().endsWith("f8"))
            throw new UsageException(name + ": dtype " + x.dtype() + ", expected float32 or float64");
    }

    static void finite(String name, Npy.Array x) {
        double[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            if (!Double.isFinite(d[i]) || (x.dtype().endsWith("f8") && !Float.isFinite((float) d[i])))
                throw new UsageException(name + ": non-finite value " + d[i]
                        + (Double.isFinite(d[i]) ? " (overflows float32)" : "")
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
