package dev.performer.cli;

import dev.performer.attention.Dims;
import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.FeatureKind;
import dev.performer.attention.FeatureMap;
import dev.performer.attention.Projection;
import dev.performer.kernel.Kernels;
import dev.performer.random.Seeds;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer approx}: approximation error of FAVOR+ against exact attention, and of the kernel estimators. */
@Command(name = "approx", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "approximation error of FAVOR+ features vs exact softmax attention; CSV, JSON, PNG",
        description = {
            "Attention level: q, k, v with entries N(0, sigma²), B=1, H=1, L, D. For each number of random features M "
                + "and each of --draws independent projections, the mean squared error of the FAVOR+ output against "
                + "exact attention, for",
            "  softmax (SM+), softmax-hyp (SMhyp+), softmax-trig (SM-trig), softmax-opt (OPRF, FAVOR++, A per head",
            "    from its queries and keys): against exact softmax attention;",
            "  relu (eps 1e-3): against its own exact kernel E[φ(x)·φ(y)] = arc-cosine kernel of degree 1",
            "    plus the eps terms, each with iid and orthogonal (chi-scaled) projections. eps = 0 for the",
            "    softmax maps, so the estimates are not shifted.",
            "",
            "Kernel level (the paper's Lemma 2 and Theorem 2): for |x| = |y| = r in {0.5, 1, 1.5} and",
            "  angles 0..π, the empirical MSE of the SM+, SM-trig and OPRF estimators of exp(x·y) over",
            "  --kernel-draws iid projections of --kernel-features rows, next to the closed forms",
            "    SM+:     (1/M) exp(|x+y|²) SM²(x,y) (1 − exp(−|x+y|²))",
            "    SM-trig: (1/(2M)) exp(|x+y|²) SM⁻²(x,y) (1 − exp(−|x−y|²))²",
            "    OPRF:    (1/M) ((1−4A)^d (1−8A)^(−d/2) exp(|x+y|²/(1−8A) + 2x·y) − SM²(x,y)), A = A*(|x+y|²/d)",
            "",
            "Writes DIR/approx.csv (feature_map, projection, features, mse_mean, mse_std, ...), DIR/kernel_mse.csv, "
                + "DIR/approx.json and PNG plots DIR/approx_mse.png (log MSE vs M with ± one standard deviation bars) "
                + "and DIR/kernel_mse.png."},
        footerHeading = "%nexample:%n",
        footer = "  performer approx --features 8,32,128,512 --draws 15 --out results/approx")
final class ApproxCommand extends Options.Command {

    static final List<String> COLUMNS = List.of("feature_map", "projection", "features", "draws", "L", "dim",
            "mse_mean", "mse_std", "mse_min", "mse_max", "reference");
    static final List<String> KERNEL_COLUMNS = List.of("norm", "angle", "kernel_value", "feature_map", "features",
            "draws", "mse_empirical", "mse_closed_form", "ratio");

    @Option(names = "--L", paramLabel = "N", defaultValue = "4096", converter = Options.AtLeast1.class,
            description = "sequence length (default ${DEFAULT-VALUE})")
    int l;

    @Option(names = "--dim", paramLabel = "D", defaultValue = "16", converter = Options.AtLeast1.class,
            description = "head width D (default ${DEFAULT-VALUE})")
    int d;

    @Option(names = "--features", paramLabel = "M,M,...", defaultValue = "8,16,32,64,128,256,512",
            converter = Options.Ints.Parse.class, description = "numbers of random features (default ${DEFAULT-VALUE})")
    Options.Ints features;

    @Option(names = "--draws", paramLabel = "N", defaultValue = "15", converter = Options.AtLeast2.class,
            description = "independent projections per point (default ${DEFAULT-VALUE})")
    int draws;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "seed of the inputs and the projections (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--sigma", paramLabel = "X", defaultValue = "1.0", converter = Options.Positive.class,
            description = "standard deviation of q, k, v (default ${DEFAULT-VALUE})")
    double sigma;

    @Option(names = "--kernel-draws", paramLabel = "N", defaultValue = "2000", converter = Options.AtLeast2.class,
            description = "iid projections per kernel-level point (default ${DEFAULT-VALUE})")
    int kDraws;

    @Option(names = "--kernel-features", paramLabel = "M", defaultValue = "64", converter = Options.AtLeast1.class,
            description = "rows of the kernel-level projections (default ${DEFAULT-VALUE})")
    int kM;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/approx-<date-time>)")
    Path outDir;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() throws IOException {
        List<Integer> ms = features.values();
        Path dir = outDir != null ? outDir
                : Path.of("runs/approx-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Cli.outputFolder("approx", "--out", dir);
        try (Kernels kern = kernels.kernels()) {
            Map<String, String> meta = Machine.describe(kern);
            meta.put("date", LocalDateTime.now().toString());
            meta.put("command", "performer approx " + argv());
            meta.forEach((k, v) -> out.printf("# %-12s %s%n", k, v));
            Dims dims = Dims.self(1, 1, l, d);
            SplittableRandom r = new SplittableRandom(seed);
            float[] q = new float[dims.qSize()], k = new float[dims.kSize()], v = new float[dims.kSize()];
            for (float[] x : new float[][]{q, k, v})
                for (int i = 0; i < x.length; i++) x[i] = (float) (sigma * r.nextGaussian());
            float[] exact = new float[dims.qSize()];
            AttentionSpec.exact().build(kern, d, false, 0).forward(dims, q, k, v, null, exact);
            float reluEps = 1e-3f;
            float[] reluExact = exactRelu(q, k, v, l, d, reluEps);

            String[][] configs = {{"softmax", "iid"}, {"softmax", "orthogonal"}, {"softmax-hyp", "iid"},
                    {"softmax-hyp", "orthogonal"}, {"softmax-opt", "iid"}, {"softmax-opt", "orthogonal"},
                    {"softmax-trig", "iid"}, {"softmax-trig", "orthogonal"}, {"relu", "iid"}, {"relu", "orthogonal"}};
            Table t = new Table(COLUMNS);
            Progress prog = new Progress(err, "approx", configs.length * ms.size());
            out.printf(Locale.ROOT, "%-13s %-11s %6s %12s %12s%n", "feature_map", "projection", "M", "mse_mean",
                    "mse_std");
            for (String[] c : configs) {
                for (int m : ms) {
                    double[] mse = new double[draws];
                    boolean relu = c[0].equals("relu");
                    FeatureMap map = relu ? FeatureMap.relu(reluEps) : FeatureKind.of(c[0]).map(0f);
                    Projection.Type type = c[1].equals("iid") ? Projection.Type.IID : Projection.Type.ORTHOGONAL;
                    float[] ref = relu ? reluExact : exact;
                    for (int s = 0; s < draws; s++) {
                        float[] w = Projection.draw(type, Projection.Scaling.CHI, m, d, Seeds.cell(seed, s, m));
                        float[] o = new float[dims.qSize()];
                        new FavorAttention(kern, map, w, m, d, false).forward(dims, q, k, v, null, o);
                        double acc = 0;
                        for (int i = 0; i < o.length; i++) { double e = o[i] - ref[i]; acc += e * e; }
                        mse[s] = acc / o.length;
                    }
                    double mean = 0, min = Double.POSITIVE_INFINITY, max = 0;
                    for (double x : mse) { mean += x; min = Math.min(min, x); max = Math.max(max, x); }
                    mean /= draws;
                    double var = 0;
                    for (double x : mse) var += (x - mean) * (x - mean);
                    double std = Math.sqrt(var / (draws - 1));
                    var row = t.add();
                    row.put("feature_map", c[0]); row.put("projection", c[1]); row.put("features", m);
                    row.put("draws", draws);
                    row.put("L", l); row.put("dim", d); row.put("mse_mean", mean); row.put("mse_std", std);
                    row.put("mse_min", min); row.put("mse_max", max);
                    row.put("reference", relu ? "exact relu-kernel attention (arc-cosine, with eps terms)"
                            : "exact softmax attention");
                    out.printf(Locale.ROOT, "%-13s %-11s %6d %12.4g %12.4g%n", c[0], c[1], m, mean, std);
                    prog.step(c[0] + "/" + c[1] + " M=" + m);
                }
            }
            Table kt = kernelLevel(kern, d, kDraws, kM, seed, out);
            t.writeCsv(dir.resolve("approx.csv"));
            kt.writeCsv(dir.resolve("kernel_mse.csv"));
            t.writeJson(dir.resolve("approx.json"), meta);
            kt.writeJson(dir.resolve("kernel_mse.json"), meta);
            plots(t, kt, configs, meta, dir, l, d, draws, kM, kDraws);
            out.println("wrote " + dir.resolve("approx.csv") + ", kernel_mse.csv, JSON and PNG plots");
        }
        return 0;
    }

    /**
     * Exact attention for the relu feature map's own kernel: E[(relu(ωᵀx)+ε)(relu(ωᵀy)+ε)] for ω ~ N(0, I)
     * = |x||y|/(2π)·(sin θ + (π − θ) cos θ) + ε(|x| + |y|)/√(2π) + ε², on x~ = x·D^-1/4. In double.
     */
    static float[] exactRelu(float[] q, float[] k, float[] v, int l, int d, double eps) {
        double s = Math.pow(d, -0.25);
        double[] nq = new double[l], nk = new double[l];
        for (int i = 0; i < l; i++) {
            double a = 0, b = 0;
            for (int c = 0; c < d; c++) {
                a += q[i * d + c] * (double) q[i * d + c];
                b += k[i * d + c] * (double) k[i * d + c];
            }

            nq[i] = s * Math.sqrt(a); nk[i] = s * Math.sqrt(b);
        }
        float[] out = new float[l * d];
        java.util.stream.IntStream.range(0, l).parallel().forEach(i -> {
            double den = 0;
            double[] num = new double[d];
            for (int j = 0; j < l; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += q[i * d + c] * (double) k[j * d + c];
                dot *= s * s;
                double cos = Math.max(-1, Math.min(1, dot / (nq[i] * nk[j] + 1e-300)));
                double th = Math.acos(cos);
                double kv = nq[i] * nk[j] / (2 * Math.PI) * (Math.sin(th) + (Math.PI - th) * cos)
                        + eps * (nq[i] + nk[j]) / Math.sqrt(2 * Math.PI) + eps * eps;
                den += kv;
                for (int c = 0; c < d; c++) num[c] += kv * v[j * d + c];
            }
            for (int c = 0; c < d; c++) out[i * d + c] = (float) (num[c] / den);
        });
        return out;
    }

    static Table kernelLevel(Kernels kern, int d, int draws, int m, long seed, PrintStream out) {
        Table t = new Table(KERNEL_COLUMNS);
        double[] norms = {0.5, 1.0, 1.5};
        int angles = 13;
        FeatureMap trig = FeatureMap.softmaxTrig(), pos = FeatureMap.softmax(0f), opt = FeatureMap.softmaxOpt(0f);
        double scale = Math.pow(d, 0.25); // the maps work on x~ = x·D^-1/4: feed x = x~·D^1/4
        out.printf(Locale.ROOT, "%nkernel level: M=%d, %d iid draws%n%5s %7s %11s %-12s %12s %12s %7s%n", m, draws,
                "norm", "angle",
                "SM(x,y)", "estimator", "mse_emp", "mse_closed", "ratio");
        for (double rr : norms) {
            for (int ai = 0; ai < angles; ai++) {
                double th = Math.PI * ai / (angles - 1);
                float[] x = new float[d], y = new float[d];
                x[0] = (float) (rr * scale);
                y[0] = (float) (rr * Math.cos(th) * scale);
                if (d > 1) y[1] = (float) (rr * Math.sin(th) * scale);
                double xy = 0, sum2 = 0, diff2 = 0;
                for (int c = 0; c < d; c++) {
                    double xs = x[c] / scale, ys = y[c] / scale;
                    xy += xs * ys; sum2 += (xs + ys) * (xs + ys); diff2 += (xs - ys) * (xs - ys);
                }
                double sm = Math.exp(xy);
                double closedPos = Math.exp(sum2) * sm * sm * (1 - Math.exp(-sum2)) / m;
                double closedTrig = Math.exp(sum2) / (sm * sm) * Math.pow(1 - Math.exp(-diff2), 2) / (2.0 * m);
                // OPRF at the A that is optimal for this pair (rho = |x+y|²/d)
                double a = FeatureMap.optimalA(sum2 / d);
                double closedOpt = (Math.exp(d * Math.log(1 - 4 * a) - 0.5 * d * Math.log(1 - 8 * a)
                        + sum2 / (1 - 8 * a) + 2 * xy) - sm * sm) / m;
                double ePos = 0, eTrig = 0, eOpt = 0;
                float[] ex = new float[m], ey = new float[m], px = new float[2 * m], py = new float[2 * m];
                float[] wOpt = new float[opt.preparedLength(m, d)];
                for (int s = 0; s < draws; s++) {
                    float[] w = Projection.draw(Projection.Type.IID, Projection.Scaling.CHI, m, d,
                            Seeds.nth(seed, s + 1_000_000L * ai + (long) (rr * 1e9)));
                    pos.exponents(kern, x, 0, d, w, m, ex, 0);
                    pos.exponents(kern, y, 0, d, w, m, ey, 0);
                    double est = 0;
                    for (int j = 0; j < m; j++) est += Math.exp((double) ex[j] + ey[j]) / m;
                    ePos += (est - sm) * (est - sm);
                    trig.forward(kern, x, 0, 1, d, w, m, true, px, 0);
                    trig.forward(kern, y, 0, 1, d, w, m, true, py, 0);
                    double et = 0;
                    for (int j = 0; j < 2 * m; j++) et += (double) px[j] * py[j];
                    eTrig += (et - sm) * (et - sm);
                    opt.prepare(w, m, d, a, wOpt);
                    opt.exponents(kern, x, 0, d, wOpt, m, ex, 0);
                    opt.exponents(kern, y, 0, d, wOpt, m, ey, 0);
                    double eo = 0;
                    for (int j = 0; j < m; j++) eo += Math.exp((double) ex[j] + ey[j]) / m;
                    eOpt += (eo - sm) * (eo - sm);
                }
                ePos /= draws;
                eTrig /= draws;
                eOpt /= draws;
                for (Object[] e : new Object[][]{{"softmax", ePos, closedPos}, {"softmax-trig", eTrig, closedTrig},
                        {"softmax-opt", eOpt, closedOpt}}) {
                    var row = t.add();
                    row.put("norm", rr); row.put("angle", th); row.put("kernel_value", sm);
                    row.put("feature_map", e[0]);
                    row.put("features", m); row.put("draws", draws); row.put("mse_empirical", e[1]);
                    row.put("mse_closed_form", e[2]);
                    row.put("ratio", (double) e[1] / (double) e[2]);
                    out.printf(Locale.ROOT, "%5.2f %7.3f %11.4g %-12s %12.4g %12.4g %7.3f%n", rr, th, sm, e[0],
                            (double) e[1], (double) e[2],
                            (double) e[1] / (double) e[2]);
                }
            }
        }
        return t;
    }

    private static void plots(Table t, Table kt, String[][] configs, Map<String, String> meta, Path dir, int l, int d,
                              int draws, int kM, int kDraws) throws IOException {
        List<Plot.Series> series = new ArrayList<>();
        for (String[] c : configs) {
            List<double[]> pts = new ArrayList<>();
            for (var row : t.rows)
                if (row.get("feature_map").equals(c[0]) && row.get("projection").equals(c[1]))
                    pts.add(new double[]{(int) row.get("features"), (double) row.get("mse_mean"),
                            (double) row.get("mse_std")});
            series.add(new Plot.Series(c[0] + " / " + c[1], pts.stream().mapToDouble(p -> p[0]).toArray(),
                    pts.stream().mapToDouble(p -> p[1]).toArray(), pts.stream().mapToDouble(p -> p[2]).toArray()));
        }
        String foot = String.format(Locale.ROOT,
                "L=%d, D=%d, %d draws per point (bars: ± one standard deviation); relu is measured against "
                + "its own exact kernel attention. %s; %s.", l, d, draws, meta.get("cpu"), meta.get("jdk"));
        Plot.lineChart(dir.resolve("approx_mse.png"), "FAVOR+ output MSE vs exact attention", "random features M",
                "MSE",
                true, true, true, series, foot);
        List<Plot.Series> ks = new ArrayList<>();
        Map<String, List<double[]>> groups = new LinkedHashMap<>();
        for (var row : kt.rows) {
            if ((double) row.get("norm") != 1.5) continue;
            groups.computeIfAbsent(row.get("feature_map") + " empirical", x -> new ArrayList<>())
                    .add(new double[]{(double) row.get("angle"), (double) row.get("mse_empirical")});
            groups.computeIfAbsent(row.get("feature_map") + " closed form", x -> new ArrayList<>())
                    .add(new double[]{(double) row.get("angle"), (double) row.get("mse_closed_form")});
        }
        groups.forEach((name, pts) -> ks.add(new Plot.Series(name, pts.stream().mapToDouble(p -> p[0]).toArray(),
                pts.stream().mapToDouble(p -> p[1]).toArray(), null)));
        Plot.lineChart(dir.resolve("kernel_mse.png"), "Estimators of exp(x·y), |x| = |y| = 1.5: MSE vs angle",
                "angle between x and y (radians)",
                "MSE", false, false, true, ks, String.format(Locale.ROOT,
                        "M=%d iid features, %d draws. The kernel value falls from exp(2.25) at angle 0 to exp(-2.25) "
                                + "at angle pi: positive features' error vanishes there, trigonometric features' error "
                                + "explodes.", kM,
                                        kDraws));
    }
}
