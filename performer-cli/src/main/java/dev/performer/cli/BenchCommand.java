package dev.performer.cli;

import dev.performer.attention.Attention;
import dev.performer.attention.Dims;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.kernel.OpenBlas;
import dev.performer.attention.AttentionSpec;
import dev.performer.model.DecodeSplit;
import dev.performer.model.Direction;
import dev.performer.model.ModelConfig;
import dev.performer.model.Positions;
import dev.performer.train.AdamW;
import dev.performer.model.PerformerModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer bench}: GEMM and attention-layer timings, CSV/JSON/PNG. */
@Command(name = "bench", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "time GEMM or attention layers over L; CSV, JSON and PNG plots",
        description = {
            "layer: times forward (fwd) or forward+backward (fwdbwd) of one attention layer on (B,H,L,D) inputs "
                + "(each forward recycling the previous run's buffers, as a training loop does), each point in a fresh "
                + "JVM (so that its peak RSS, read from /proc VmHWM, is its own; young generation fixed at 64 MB so "
                + "that garbage does not inflate it), after at least --warmup runs and 3 s of warm-up, continued until "
                + "three runs in a row agree within 10%% (JIT settled); reports median, min and max over --reps, peak "
                + "RSS, peak heap and the MB allocated per run (alloc_mb, all threads), nominal GFLOP/s (FAVOR+: "
                + "8·B·H·L·M·D per forward, 20·B·H·L·M·D per forward+backward; exact: 4·B·H·L²·D and 12·B·H·L²·D) "
                + "against the FMA peak measured at the start, and the time ratio to identity attention ('X (OPT)', "
                + "which returns V) at the same point. Points that would not fit in --max-heap-gb (default 75%% of RAM)"
                + " or whose predicted time exceeds --budget-seconds are skipped with a note, as are larger L of a "
                + "series that failed. Methods: exact, favor-softmax, favor-softmax-hyp, favor-softmax-trig, "
                + "favor-softmax-opt (FAVOR++), favor-relu, favor-elu, favor-exp, favor-abs, identity.",
            "",
            "model: the same measurements for a whole Performer model (embedding, blocks, tied output and "
                + "cross-entropy loss; forward+backward includes the backward through every layer), as in the paper's "
                + "figure: --model paper = 6 layers, width 512, 8 heads, feed-forward 2048, vocabulary 256; --model "
                + "small = 6 layers, width 64, 1 head, feed-forward 64. Methods: exact, favor-softmax, "
                + "favor-softmax-opt, favor-relu, identity, linformer, reformer. --heads/--dim override the model's "
                + "heads and head width. --model train = 4 layers, width "
                + "256, 8 heads, feed-forward 1024, the protein vocabulary (30): the issue's training-throughput "
                + "model. --pass step = one training step: forward with dropout 0.1, backward, AdamW update. Model "
                + "rows also report tokens per second (B·L over the median) and the speed-up over exact attention at "
                        + "the same point.",
            "",
            "decode: batched token-by-token decoding (PerformerModel.decoder(N)) of a causal rotary model, --model "
                + "table2 by default (2 layers, width 128, 4 heads, ffn 256, the protein vocabulary), favor-softmax "
                + "by default: tokens per second for each N of --samples (--tokens steps from position 0 per timed "
                + "run, median of --reps after 3 s of warm-up per N, sampling not included) and the ratio to the "
                + "first point, in one JVM; --split rows,heads times both ways of spreading a step over the threads "
                + "(DecodeSplit) in the same run.",
            "",
            "gemm: GEMM on the FAVOR+ shapes at each L (features L×D·D×M, state M×L·L×D with a transposed A, output "
                + "L×M·M×D) and on squares, by this project's vector kernels and, when installed, OpenBLAS sgemm on "
                + "the same threads, in the same run.",
            "",
            "Writes DIR/bench.csv, DIR/bench.json (with machine, JDK, backend, threads, FMA peak) and, for layer, PNG "
                + "plots DIR/time_<direction>_<pass>.png and DIR/memory_<direction>_<pass>.png (log-log, one line per "
                + "method)."},
        footerHeading = "%nexamples:%n",
        footer = {
            "  performer bench --scope gemm --L 1024,4096,16384",
            "  performer bench --scope layer --methods exact,favor-softmax,favor-relu,identity \\",
            "      --direction both --pass both --L 2^9,2^10,2^11,2^12,2^13,2^14,2^15,2^16 --out results/layer",
            "  performer bench --scope layer --methods favor-softmax --direction causal --pass fwd --L 4096 --reps 3",
            "  performer bench --scope layer --methods favor-softmax --direction both --pass both --L 4096,16384 \\",
            "      --reps 15 --interleave",
            "  performer bench --scope model --model paper --methods exact,favor-softmax,identity --L 1024,4096,16384",
            "  performer bench --scope decode --samples 1,8 --out results/decode",
            "  performer bench --scope decode --split rows,heads --samples 1,2,4,8 --threads 2"})
final class BenchCommand extends Options.Command {

    static final List<String> LAYER_COLUMNS = List.of("scope", "model", "method", "direction", "pass", "L", "batch",
            "heads", "dim", "features", "threads", "backend", "reps", "median_ms", "min_ms", "max_ms", "peak_rss_mb",
            "peak_heap_mb", "alloc_mb", "gflops", "pct_fma_peak", "tokens_per_s", "ratio_to_identity",
            "speedup_vs_exact", "causal_over_bidir", "status", "note");
    /** Attention kinds a model can be built with. */
    static final Set<String> MODEL_METHODS = Set.of("exact", "favor-softmax", "favor-softmax-opt", "favor-relu",
            "identity", "linformer", "reformer");
    static final List<String> DECODE_COLUMNS = List.of("scope", "model", "method", "split", "samples", "tokens",
            "threads",
            "backend", "reps", "median_ms", "min_ms", "max_ms", "ms_per_step", "tokens_per_s", "ratio_to_first");
    /** Attention kinds with a token-by-token decoder. */
    static final Set<String> DECODE_METHODS = Set.of("exact", "favor-softmax", "favor-softmax-opt", "favor-relu",
            "identity");
    static final List<String> GEMM_COLUMNS = List.of("shape", "m", "n", "k", "transA", "transB", "threads",
            "vector_gflops", "openblas_gflops", "ratio_vs_openblas", "vector_pct_fma_peak", "vector_median_ms",
            "openblas_median_ms");

    static final class Scopes extends Options.Choice { Scopes() { super("gemm", "layer", "model", "decode"); } }

    static final class Passes extends Options.Choice { Passes() { super("fwd", "fwdbwd", "step", "both"); } }

    static final class Models extends Options.Choice { Models() { super("paper", "small", "train", "table2"); } }

    @Option(names = "--scope", paramLabel = "SCOPE", defaultValue = "layer", converter = Scopes.class,
            completionCandidates = Scopes.class, description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String scope;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/bench-<date-time>)")
    Path outDir;

    @Mixin Options.KernelOptions kernels;

    @Option(names = "--methods", paramLabel = "M,M,...", defaultValue = "exact,favor-softmax,favor-relu,identity",
            converter = Options.Words.MethodList.class,
            description = "layer, model: attention methods (default ${DEFAULT-VALUE}; decode: favor-softmax)")
    Options.Words methodList;

    @Option(names = "--direction", paramLabel = "DIR", defaultValue = "both",
            converter = Options.DirectionsOrBoth.class,
            completionCandidates = Options.DirectionsOrBoth.class,
            description = "layer, model: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    String dirOpt;

    @Option(names = "--pass", paramLabel = "PASS", defaultValue = "both", converter = Passes.class,
            completionCandidates = Passes.class,
            description = "layer, model: ${COMPLETION-CANDIDATES} (step: model only; default ${DEFAULT-VALUE})")
    String passOpt;

    @Option(names = "--L", paramLabel = "L,L,...", converter = Options.Ints.Parse.class,
            description = "sequence lengths, 2^k accepted (default: layer, model 2^9..2^16; gemm 4096)")
    Options.Ints lengths;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", converter = Options.AtLeast1.class,
            description = "layer, model: batch B (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--heads", paramLabel = "N", converter = Options.AtLeast1.class,
            description = "layer, model: heads H (default: layer 8, model the model's)")
    Integer headsOpt;

    @Option(names = "--dim", paramLabel = "D", converter = Options.AtLeast1.class,
            description = "head width D (default: layer and gemm 64, model the model's)")
    Integer dimOpt;

    @Option(names = "--features", paramLabel = "M", defaultValue = "256", converter = Options.AtLeast1.class,
            description = "random features M (default ${DEFAULT-VALUE})")
    int m;

    @Option(names = "--reps", paramLabel = "N", converter = Options.AtLeast1.class,
            description = "timed runs per point (default: layer, model, decode 5; gemm 7)")
    Integer repsOpt;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", converter = Options.AtLeast0.class,
            description = "layer, model, decode: warm-up runs at least (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--budget-seconds", paramLabel = "S", defaultValue = "120", converter = Options.Positive.class,
            description = "layer, model: skip points predicted to take longer (default ${DEFAULT-VALUE})")
    double budget;

    @Option(names = "--max-heap-gb", paramLabel = "G", converter = Options.Positive.class,
            description = "layer, model: heap of each point's JVM (default 75%% of RAM)")
    Double maxHeapGb;

    @Option(names = "--model", paramLabel = "MODEL", converter = Models.class, completionCandidates = Models.class,
            description = "model, decode: ${COMPLETION-CANDIDATES} (default: model paper, decode table2)")
    String modelOpt;

    @Option(names = "--samples", paramLabel = "N,N,...", defaultValue = "1,2,4,8,16",
            converter = Options.Ints.Parse.class,
            description = "decode: sequences decoded together (default ${DEFAULT-VALUE})")
    Options.Ints samplesOpt;

    @Option(names = "--split", paramLabel = "S,S,...", defaultValue = "auto", converter = Options.Words.Plain.class,
            description = "decode: how a step is spread over the threads, each of auto, rows (groups of sequences "
                    + "per thread), heads (every thread a share of each layer's heads and columns) "
                    + "(default ${DEFAULT-VALUE})")
    Options.Words splitOpt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "2000", converter = Options.AtLeast1.class,
            description = "decode: steps per timed run (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--square", paramLabel = "N,N,...", defaultValue = "1024,2048,4096",
            converter = Options.Ints.Parse.class,
            description = "gemm: square sizes (default ${DEFAULT-VALUE})")
    Options.Ints square;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "layer, model: seed of the inputs; decode: of the weights (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--interleave", description = "layer, model with --direction both: time the bidirectional and "
            + "the causal form of each point in one JVM, one run of each in turn, and report causal_over_bidir as "
            + "the median of the rounds' ratios (a machine whose speed drifts moves both alike; the peak RSS is "
            + "then of both, and a bidirectional-only method runs alone)")
    boolean interleave;

    @Override public Integer call() throws IOException, InterruptedException {
        Path dir = outDir != null ? outDir
                : Path.of("runs/bench-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        // every option is checked before the (slow) FMA peak measurement
        if (scope.equals("decode")) {
            decodeMethods();
        } else if (!scope.equals("gemm")) {
            methodList.check("--methods", scope.equals("model") ? MODEL_METHODS : Methods.METHODS);
            if (scope.equals("layer") && passOpt.equals("step"))
                throw new UsageException("--pass step needs --scope model (layer: fwd|fwdbwd|both)");
        }
        if (interleave && (!dirOpt.equals("both") || scope.equals("gemm") || scope.equals("decode")))
            throw new UsageException("--interleave needs --scope layer or model with --direction both");
        Cli.outputFolder("bench", "--out", dir);
        try (Kernels kern = kernels.kernels()) {
            Map<String, String> meta = Machine.describe(kern);
            err.printf("measuring the FMA peak on %d threads ...%n", kern.threads());
            double peak = Cli.fmaPeak(kern.threads());
            meta.put("fma_peak_gflops", Cli.fmt(peak));
            meta.put("date", LocalDateTime.now().toString());
            meta.put("command", "performer bench " + argv());
            meta.forEach((k, v) -> out.printf("# %-16s %s%n", k, v));
            if (scope.equals("gemm")) return gemm(kern, peak, meta, dir, out, err);
            if (scope.equals("decode")) return decode(kern, meta, dir, out, err);
            return layer(kern, peak, meta, dir, out, err, scope.equals("model"));
        }
    }

    // ------------------------------------------------------------------ gemm

    private int gemm(Kernels kern, double peak, Map<String, String> meta, Path dir, PrintStream out, PrintStream err)
            throws IOException {
        List<Integer> ls = lengths != null ? lengths.values() : List.of(4096), squares = square.values();
        int d = dimOpt != null ? dimOpt : 64, reps = repsOpt != null ? repsOpt : 7;
        Optional<OpenBlas> blas = OpenBlas.load();
        blas.ifPresent(b -> b.setThreads(kern.threads()));
        List<Object[]> shapes = new ArrayList<>();
        for (int l : ls) {
            shapes.add(new Object[]{"features x·W^T L=" + l, l, m, d, false, true});
            shapes.add(new Object[]{"state phi_k^T·V L=" + l, m, d, l, true, false});
            shapes.add(new Object[]{"output phi_q·S L=" + l, l, d, m, false, false});
        }
        for (int s : squares) shapes.add(new Object[]{"square " + s, s, s, s, false, false});
        // one pass over every shape first, so that no shape is timed while the JIT still compiles
        for (Object[] s : shapes) {
            int mm = (int) s[1], nn = (int) s[2], kk = (int) s[3];
            boolean ta = (boolean) s[4], tb = (boolean) s[5];
            float[] A = new float[mm * kk], B = new float[kk * nn], C = new float[mm * nn];
            for (int i = 0; i < 3; i++) {
                kern.gemm(ta, tb, mm, nn, kk, 1f, A, 0, ta ? mm : kk, B, 0, tb ? kk : nn, 0f, C, 0, nn);
                if (blas.isPresent()) blas.get()
                        .sgemm(ta, tb, mm, nn, kk, 1f, A, 0, ta ? mm : kk, B, 0, tb ? kk : nn, 0f, C, 0, nn);
            }
        }
        Table t = new Table(GEMM_COLUMNS);
        Progress p = new Progress(err, "gemm", shapes.size());
        out.printf(Locale.ROOT, "%-28s %9s %9s %7s %8s%n", "shape", "vector", "openblas", "ratio", "%peak");
        for (Object[] s : shapes) {
            int mm = (int) s[1], nn = (int) s[2], kk = (int) s[3];
            boolean ta = (boolean) s[4], tb = (boolean) s[5];
            SplittableRandom r = new SplittableRandom(1);
            float[] A = rand(r, mm * kk), B = rand(r, kk * nn), C = new float[mm * nn];
            int lda = ta ? mm : kk, ldb = tb ? kk : nn;
            double tv = timeGemm(() -> kern.gemm(ta, tb, mm, nn, kk, 1f, A, 0, lda, B, 0, ldb, 0f, C, 0, nn), reps);
            double tb2 = blas.isPresent()
                    ? timeGemm(() -> blas.get().sgemm(ta, tb, mm, nn, kk, 1f, A, 0, lda, B, 0, ldb, 0f, C, 0, nn),
                            reps) : Double.NaN;
            double flops = 2.0 * mm * nn * kk;
            var row = t.add();
            row.put("shape", s[0]); row.put("m", mm); row.put("n", nn); row.put("k", kk); row.put("transA", ta);
            row.put("transB", tb);
            row.put("threads", kern.threads());
            row.put("vector_gflops", flops / tv / 1e6);
            row.put("openblas_gflops", flops / tb2 / 1e6);
            row.put("ratio_vs_openblas", tb2 / tv);
            row.put("vector_pct_fma_peak", 100 * flops / tv / 1e6 / peak);
            row.put("vector_median_ms", tv);
            row.put("openblas_median_ms", tb2);
            out.printf(Locale.ROOT, "%-28s %9.1f %9.1f %7.2f %7.1f%%%n", s[0], flops / tv / 1e6, flops / tb2 / 1e6,
                    tb2 / tv, 100 * flops / tv / 1e6 / peak);
            p.step((String) s[0]);
        }
        t.writeCsv(dir.resolve("bench.csv"));
        t.writeJson(dir.resolve("bench.json"), meta);
        out.println("wrote " + dir.resolve("bench.csv") + " and bench.json");
        return 0;
    }

    /** Median ms over reps runs, after warming up for at least 1 s and 5 runs (JIT compilation). */
    private static double timeGemm(Runnable r, int reps) {
        long until = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < 5 || System.nanoTime() < until; i++) r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        return Cli.median(t);
    }

    static float[] rand(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    // ------------------------------------------------------------------ decode

    /** decode: favor-softmax unless --methods names others (the layer default list has no decoder for some). */
    private List<String> decodeMethods() {
        if (!given("--methods")) return List.of("favor-softmax");
        return methodList.check("--methods", DECODE_METHODS);
    }

    /**
     * Batched decoding: for each N of --samples, fresh decoders of N sequences run --tokens steps of a causal
     * model with rotary positions (random weights, one token per sequence per step, sampling not included),
     * after at least --warmup runs and 3 s of warm-up at that N; the median over --reps runs, tokens per
     * second N·tokens/median and their ratio to the first N of the list, in one JVM and one sitting.
     */
    private int decode(Kernels kern, Map<String, String> meta, Path dir, PrintStream out, PrintStream err)
            throws IOException {
        List<String> methods = decodeMethods();
        List<Integer> ns = samplesOpt.values();
        ModelSize ms = ModelSize.of(modelOpt != null ? modelOpt : "table2");
        int reps = repsOpt != null ? repsOpt : 5;
        meta.put("model", String.format(Locale.ROOT, "%s: %d layers, width %d, %d heads, ffn %d, vocab %d, M %d, "
                + "causal, rotary", ms.name(), ms.layers(), ms.width(), ms.heads(), ms.ffn(), ms.vocab(), m));
        Table t = new Table(DECODE_COLUMNS);
        List<DecodeSplit> splits = splitOpt.check("--split", Set.of("auto", "rows", "heads")).stream()
                .map(w -> DecodeSplit.valueOf(w.toUpperCase(Locale.ROOT))).toList();
        Progress prog = new Progress(err, "decode", methods.size() * splits.size() * ns.size());
        out.printf(Locale.ROOT, "%-16s %-6s %7s %10s %10s %10s %12s %8s%n", "method", "split", "samples", "median_ms",
                "min_ms", "max_ms", "tokens/s", "ratio");
        for (String method : methods) {
            ModelConfig cfg = ModelConfig.builder().vocab(ms.vocab()).layers(ms.layers()).width(ms.width())
                    .heads(ms.heads()).ffn(ms.ffn()).attention(AttentionSpec.of(method, m))
                    .direction(Direction.CAUSAL).positions(Positions.ROTARY).maxLen(tokens).build();
            PerformerModel model = new PerformerModel(cfg, kern, seed);
            double first = Double.NaN;
            for (DecodeSplit split : splits)
                for (int n : ns) {
                    Runnable run = () -> {
                        PerformerModel.BatchDecoder dec = model.decoder(n, split);
                        int[] tok = new int[n];
                        for (int step = 0; step < tokens; step++) {
                            for (int i = 0; i < n; i++) tok[i] = Tokenizer.FIRST_SYMBOL + (31 * step + 7 * i) % 20;
                            dec.step(tok);
                        }
                    };
                    String chosen = model.decoder(n, split).split().name().toLowerCase(Locale.ROOT);
                    long until = System.nanoTime() + 3_000_000_000L;
                    for (int i = 0; i < warmup || System.nanoTime() < until; i++) run.run();
                    double[] ms2 = new double[reps];
                    for (int i = 0; i < reps; i++) {
                        long s0 = System.nanoTime();
                        run.run();
                        ms2[i] = (System.nanoTime() - s0) / 1e6;
                    }
                    double med = Cli.median(ms2), tps = (double) n * tokens / (med / 1e3);
                    if (Double.isNaN(first)) first = tps;
                    var row = t.add();
                    row.put("scope", "decode"); row.put("model", ms.name()); row.put("method", method);
                    row.put("split", chosen);
                    row.put("samples", n); row.put("tokens", tokens); row.put("threads", kern.threads());
                    row.put("backend", kern.name()); row.put("reps", reps); row.put("median_ms", med);
                    row.put("min_ms", Arrays.stream(ms2).min().orElseThrow());
                    row.put("max_ms", Arrays.stream(ms2).max().orElseThrow());
                    row.put("ms_per_step", med / tokens); row.put("tokens_per_s", tps);
                    row.put("ratio_to_first", tps / first);
                    out.printf(Locale.ROOT, "%-16s %-6s %7d %10.1f %10.1f %10.1f %12.0f %8.2f%n", method, chosen, n,
                            med, Arrays.stream(ms2).min().orElseThrow(), Arrays.stream(ms2).max().orElseThrow(), tps,
                            tps / first);
                    prog.step(method + " " + chosen + " N=" + n);
                }
        }
        t.writeCsv(dir.resolve("bench.csv"));
        t.writeJson(dir.resolve("bench.json"), meta);
        out.println("wrote " + dir.resolve("bench.csv") + " and bench.json");
        return 0;
    }

    // ------------------------------------------------------------------ layer

    /**
     * The model sizes of the paper's figure: "paper" 6 layers, width 512, 8 heads, ffn 2048; "small" 1 head, width 64,
     * ffn 64; "train" 4 layers, width 256; "table2" the protein experiments' model (2 layers, width 128, 4 heads, ffn
     * 256, the protein vocabulary).
     */
    record ModelSize(String name, int layers, int width, int heads, int ffn, int vocab) {
        /** From the library's presets: the paper's settings (a byte vocabulary, as its timing figure); train. */
        static ModelSize of(String name) {
            ModelConfig c = switch (name) {
                case "small" -> ModelConfig.paperSmall().toBuilder().vocab(256).build();
                case "train" -> ModelConfig.builder().layers(4).width(256).heads(8).ffn(1024).build();
                case "table2" -> ModelConfig.small();   // scripts/table2.sh's protein model: 2 x 128, 4 heads, ffn 256
                default -> ModelConfig.paper().toBuilder().vocab(256).build();
            };
            return new ModelSize(name, c.layers(), c.width(), c.heads(), c.ffn(), c.vocab());
        }
    }

    private int layer(Kernels kern, double peak, Map<String, String> meta, Path dir, PrintStream out, PrintStream err,
                      boolean modelScope) throws IOException, InterruptedException {
        List<String> methods = methodList.check("--methods", modelScope ? MODEL_METHODS : Methods.METHODS);
        List<String> dirs = dirOpt.equals("both") ? List.of("bidir", "causal") : List.of(dirOpt);
        List<String> passes = passOpt.equals("both") ? List.of("fwd", "fwdbwd") : List.of(passOpt);
        List<Integer> ls = lengths != null ? lengths.values()
                : List.of(512, 1024, 2048, 4096, 8192, 16384, 32768, 65536);
        ModelSize ms = ModelSize.of(modelOpt != null ? modelOpt : "paper");
        int defHeads = modelScope ? ms.heads() : 8, defDim = modelScope ? ms.width() / ms.heads() : 64;
        int heads = headsOpt != null ? headsOpt : defHeads, dim = dimOpt != null ? dimOpt : defDim;
        String modelLabel = modelScope ? ms.name()
                + (heads != ms.heads() || dim * heads != ms.width() ? "-h" + heads + "d" + dim : "") : "";
        if (modelScope) meta.put("model",
                String.format(Locale.ROOT, "%s: %d layers, width %d, %d heads, ffn %d, vocab %d",
                modelLabel, ms.layers(), heads * dim, heads, ms.ffn(), ms.vocab()));
        int reps = repsOpt != null ? repsOpt : 5;
        long physMb = Machine.memTotalMb();
        double heapGb = maxHeapGb != null ? maxHeapGb : Math.floor(physMb * 0.75 / 1024);
        meta.put("child_max_heap_gb", Cli.fmt(heapGb));

        Table t = new Table(LAYER_COLUMNS);
        int total = methods.size() * dirs.size() * passes.size() * ls.size();
        Progress prog = new Progress(err, "bench", total);
        out.printf(Locale.ROOT, "%-20s %-6s %-6s %8s %10s %10s %10s %10s %8s  %s%n", "method", "dir", "pass", "L",
                "median_ms",
                "min_ms", "max_ms", "rss_mb", "gflops", "status");
        Map<String, double[]> last = new HashMap<>(); // series -> {L, median_ms} of the last success
        Map<String, String> dead = new HashMap<>();    // series -> why larger L are skipped
        List<Pt> order = new ArrayList<>();   // interleaved: the directions of a point one after the other
        if (interleave) for (String method : methods) for (String ps : passes) for (int l : ls) for (String dr : dirs)
            order.add(new Pt(method, dr, ps, l));
        else for (String method : methods) for (String dr : dirs) for (String ps : passes) for (int l : ls)
            order.add(new Pt(method, dr, ps, l));
        // why a point does not run (null: it runs), from the series' earlier points
        java.util.function.Function<Pt, String> skipOf = pt -> {
            String skip = dead.get(pt.series());
            if (skip == null && pt.method().equals("linformer") && pt.dir().equals("causal"))
                skip = "linformer is bidirectional only";
            double needGb = memoryEstimateGb(pt.method(), !pt.pass().equals("fwd"), batch, heads, pt.l(), dim, m,
                    kern.threads()) * (modelScope ? ms.layers() : 1)
                    + (modelScope ? modelActivationsGb(ms, batch, pt.l(), heads * dim) : 0);
            if (skip == null && needGb > heapGb * 0.9)
                skip = String.format(Locale.ROOT, "needs about %.1f GB > %.1f GB heap", needGb, heapGb);
            double[] prev = last.get(pt.series());
            if (skip == null && prev != null) {
                // linformer's k = L/4: quadratic too
                boolean quadratic = pt.method().equals("exact") || pt.method().equals("linformer");
                double grow = quadratic ? Math.pow((double) pt.l() / prev[0], 2) : (double) pt.l() / prev[0] * 1.1;
                double predicted = prev[1] * grow * (reps + warmup + 1) / 1000 + 2;
                if (predicted > budget) skip = String.format(Locale.ROOT, "predicted %.0f s > budget %.0f s", predicted,
                        budget);
            }
            return skip;
        };
        Map<String, Map<String, Double>> paired = new HashMap<>(); // the point's interleaved child: direction -> result
        String pairedFailure = null;
        boolean pairRan = false;
        for (Pt pt : order) {
            String method = pt.method(), dr = pt.dir(), ps = pt.pass();
            int l = pt.l();
            String series = pt.series();
            var row = t.add();
            row.put("scope", modelScope ? "model" : "layer"); row.put("model", modelLabel);

            row.put("method", method); row.put("direction", dr); row.put("pass", ps); row.put("L", l);
            row.put("batch", batch);
            row.put("heads", heads); row.put("dim", dim); row.put("features", method.startsWith("favor") ? m : 0);
            row.put("threads", kern.threads()); row.put("backend", kern.name()); row.put("reps", reps);
            String skip = skipOf.apply(pt);
            boolean first = interleave && dr.equals(dirs.get(0));
            if (first) { // a pair runs only when neither of its directions would be skipped
                paired = new HashMap<>();
                pairedFailure = null;
                pairRan = false;
            }
            if (skip != null) {
                row.put("status", "skipped");
                row.put("note", skip);
                dead.putIfAbsent(series, skip.startsWith("predicted") || skip.startsWith("needs")
                        || skip.startsWith("an L")
                        ? "a smaller L was skipped: " + skip : skip);
                out.printf(Locale.ROOT, "%-20s %-6s %-6s %8d %10s %10s %10s %10s %8s  skipped: %s%n", method, dr, ps, l,
                        "", "", "", "", "", skip);
                prog.step(series + " L=" + l + " skipped");
                continue;
            }
            Map<String, Double> res = new HashMap<>();
            String failure;
            if (first && skipOf.apply(new Pt(method, dirs.get(1), ps, l)) == null) {
                // the first direction of a pair runs the child of both; the second takes its share (or its failure)
                List<String> cmd = childCommand(heapGb, method, "both", ps, l, batch, heads, dim, m, reps, warmup,
                        kern, seed);
                if (modelScope) cmd.addAll(List.of("--scope", "model", "--model", ms.name()));
                pairRan = true;
                pairedFailure = runChildren(cmd, paired);
                failure = pairedFailure;
                if (failure == null) {
                    res.putAll(paired.get(dr));
                    row.put("note", "interleaved with " + dirs.get(1) + " in one JVM (peak RSS of both)");
                }
            } else if (interleave && !first && pairRan) {
                failure = pairedFailure;
                if (failure == null) {
                    res.putAll(paired.get(dr));
                    row.put("note", "interleaved with " + dirs.get(0) + " in one JVM (peak RSS of both); ratio's "
                            + "quartiles " + Cli.fmt(res.get("ratio_q1")) + "-" + Cli.fmt(res.get("ratio_q3")));
                    row.put("causal_over_bidir", res.get("ratio_median"));
                }
            } else {
                List<String> cmd = childCommand(heapGb, method, dr, ps, l, batch, heads, dim, m, reps, warmup, kern,
                        seed);
                if (modelScope) cmd.addAll(List.of("--scope", "model", "--model", ms.name()));
                failure = runChild(cmd, res);
            }
            if (failure != null) {
                row.put("status", "failed");
                row.put("note", failure);
                dead.put(series, "a smaller L failed: " + failure);
                out.printf(Locale.ROOT, "%-20s %-6s %-6s %8d %10s %10s %10s %10s %8s  failed: %s%n", method, dr, ps, l,
                        "", "", "", "", "", failure);
            } else {
                double med = res.get("median_ms");
                double flops = modelScope ? 0 : nominalFlops(method, ps.equals("fwdbwd"), batch, heads, l, dim, m);
                row.put("median_ms", med); row.put("min_ms", res.get("min_ms")); row.put("max_ms", res.get("max_ms"));
                row.put("peak_rss_mb", res.get("peak_rss_mb")); row.put("peak_heap_mb", res.get("peak_heap_mb"));
                row.put("alloc_mb", res.get("alloc_mb"));
                row.put("gflops", flops > 0 ? flops / med / 1e6 : Double.NaN);
                if (modelScope) row.put("tokens_per_s", batch * (double) l / med * 1e3);
                row.put("pct_fma_peak", flops > 0 ? 100 * flops / med / 1e6 / peak : Double.NaN);
                row.put("status", "ok");
                last.put(series, new double[]{l, med});
                out.printf(Locale.ROOT, "%-20s %-6s %-6s %8d %10.2f %10.2f %10.2f %10.0f %8.1f  ok%n", method, dr, ps,
                        l, med,
                        res.get("min_ms"), res.get("max_ms"), res.get("peak_rss_mb"), flops > 0 ? flops / med / 1e6
                                : Double.NaN);
            }
            prog.step(series + " L=" + l);
        }
        // ratio to identity attention at the same point; causal over bidirectional medians (not interleaved)
        for (var row : t.rows) {
            if (!"ok".equals(row.get("status"))) continue;
            if ("causal".equals(row.get("direction")) && row.get("causal_over_bidir") == null)
                for (var bi : t.rows)
                    if ("bidir".equals(bi.get("direction")) && "ok".equals(bi.get("status"))
                            && bi.get("method").equals(row.get("method")) && bi.get("pass").equals(row.get("pass"))
                            && bi.get("L").equals(row.get("L")))
                        row.put("causal_over_bidir", (double) row.get("median_ms") / (double) bi.get("median_ms"));
            for (var id : t.rows)
                if ("identity".equals(id.get("method")) && "ok".equals(id.get("status")) && id.get("direction")
                        .equals(row.get("direction"))
                        && id.get("pass").equals(row.get("pass")) && id.get("L").equals(row.get("L")))
                    row.put("ratio_to_identity", (double) row.get("median_ms") / (double) id.get("median_ms"));
            for (var ex : t.rows)
                if ("exact".equals(ex.get("method")) && "ok".equals(ex.get("status")) && ex.get("direction")
                        .equals(row.get("direction"))
                        && ex.get("pass").equals(row.get("pass")) && ex.get("L").equals(row.get("L")))
                    row.put("speedup_vs_exact", (double) ex.get("median_ms") / (double) row.get("median_ms"));
        }
        t.writeCsv(dir.resolve("bench.csv"));
        t.writeJson(dir.resolve("bench.json"), meta);
        plots(t, methods, dirs, passes, meta, dir, modelScope ? "Model (" + meta.get("model") + ")"
                : "Attention layer");
        out.println("wrote " + dir.resolve("bench.csv") + ", bench.json and PNG plots");
        return 0;
    }

    /** Nominal flop counts documented in the help (0 for identity). */
    /** One point of a layer or model sweep. */
    record Pt(String method, String dir, String pass, int l) {
        String series() { return method + "/" + dir + "/" + pass; }
    }

    static double nominalFlops(String method, boolean bwd, int b, int h, int l, int d, int m) {
        if (method.equals("identity")) return 0;
        if (method.equals("exact")) return (bwd ? 12.0 : 4.0) * b * h * (double) l * l * d;
        // linformer: E·K, F·V, Q·K'ᵀ, P·V' with k = L/4 rows; reformer: 2 rounds of chunk × 2·chunk (64) scores
        if (method.equals("linformer")) return (bwd ? 24.0 : 8.0) * b * h * (double) l * Math.max(1, l / 4) * d;
        if (method.equals("reformer")) return (bwd ? 3.0 : 1.0) * 2 * 4.0 * b * h * (double) l * 128 * d;
        int mf = method.endsWith("hyp") || method.endsWith("trig") ? 2 * m : m;
        return (bwd ? 20.0 : 8.0) * b * h * (double) l * mf * d;
    }

    /** A rough upper estimate of the heap a point needs, in GB, to skip hopeless points early. */
    static double memoryEstimateGb(String method, boolean bwd, int b, int h, int l, int d, int m, int threads) {
        double tensor = 4.0 * b * h * l * d;
        double total = tensor * (bwd ? 8 : 4);
        // tiled exact attention: a copy of the output, the row log-sum-exps, two 64×256 tiles per thread
        if (method.equals("exact")) total += tensor + 4.0 * b * h * l + 4.0 * threads * 2 * 64 * 256;
        else if (method.startsWith("favor")) {
            // streamed features: the denominators (B·H·L) and S, z per head are all that is kept;
            // per thread a block of 256 rows of features and their gradients
            int mf = method.endsWith("hyp") || method.endsWith("trig") ? 2 * m : m;
            total += 4.0 * b * h * (l + (double) mf * (d + 1)) + 4.0 * threads * 256 * (4.0 * mf + 2 * d);
        }
        return total / 1e9;
    }

    /** Activations a model keeps for backward, in GB: about 16·C + 2·F floats per token per layer, plus V per token. */
    static double modelActivationsGb(ModelSize ms, int batch, int l, int width) {
        return 4.0 * batch * l * (ms.layers() * (16.0 * width + 2.0 * ms.ffn()) + ms.vocab() + 10.0 * width) / 1e9;
    }

    static List<String> childCommand(double heapGb, String method, String dir, String pass, int l, int batch, int heads,
                                     int dim, int m, int reps, int warmup, Kernels kern, long seed) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseParallelGC", "-Xms256m", "-Xmn64m",
                        String.format(Locale.ROOT, "-Xmx%dm", (long) (heapGb * 1024)),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench-point",
                "--method", method, "--direction", dir, "--pass", pass, "--L", String.valueOf(l), "--batch",
                        String.valueOf(batch),
                "--heads", String.valueOf(heads), "--dim", String.valueOf(dim), "--features", String.valueOf(m),
                "--reps", String.valueOf(reps), "--warmup", String.valueOf(warmup), "--backend", kern.name(),
                "--threads", String.valueOf(kern.threads()), "--seed", String.valueOf(seed)));
        return cmd;
    }

    private static final Pattern KV = Pattern.compile("\"([a-z0-9_]+)\":\\s*([-0-9.eE+]+)");

    /**
     * Runs an interleaved point (bench-point --direction both); fills res with each direction's RESULT line
     * ("RESULT bidir {...}", "RESULT causal {...}"), or returns why it failed.
     */
    static String runChildren(List<String> cmd, Map<String, Map<String, Double>> res)
            throws IOException, InterruptedException {
        Map<String, Double> all = new HashMap<>();
        String failure = runChild(cmd, all);
        if (failure != null) return failure;
        for (var e : all.entrySet()) {
            int dot = e.getKey().indexOf('.');
            if (dot > 0) res.computeIfAbsent(e.getKey().substring(0, dot), x -> new HashMap<>())
                    .put(e.getKey().substring(dot + 1), e.getValue());
        }
        return res.size() == 2 ? null : "the child reported " + res.keySet() + ", not both directions";
    }

    /**
     * Runs one point; fills res from its RESULT line(s) (an interleaved child's keys as direction.key), or
     * returns why it failed.
     */
    static String runChild(List<String> cmd, Map<String, Double> res) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String lastLine = "", result = null;
        Map<String, String> keyed = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("RESULT {")) result = line.substring(7);
                else if (line.startsWith("RESULT ") && line.indexOf(' ', 7) > 0) {
                    int sp = line.indexOf(' ', 7);
                    keyed.put(line.substring(7, sp), line.substring(sp + 1));
                    result = "";
                } else if (!line.isBlank() && !line.contains("Using incubator modules")) lastLine = line.trim();
            }
        }
        int code = p.waitFor();
        if (code != 0 || result == null) {
            if (lastLine.contains("out of memory") || lastLine.contains("OutOfMemoryError")) return "out of memory";
            return "exit " + code + ": " + lastLine;
        }
        Matcher mt = KV.matcher(result);
        while (mt.find()) res.put(mt.group(1), Double.parseDouble(mt.group(2)));
        for (var e : keyed.entrySet()) {
            Matcher km = KV.matcher(e.getValue());
            while (km.find()) res.put(e.getKey() + "." + km.group(1), Double.parseDouble(km.group(2)));
        }
        return null;
    }

    /** {@code performer bench-point}: one timed point, run by bench in a fresh JVM. Prints a RESULT line. */
    @Command(name = "bench-point", hidden = true, mixinStandardHelpOptions = true, version = Main.VERSION,
            synopsisHeading = "usage: ", description = "one timed point of performer bench, in a fresh JVM")
    static final class Point extends Options.Command {

        static final class PointScopes extends Options.Choice { PointScopes() { super("layer", "model"); } }

        static final class PointPasses extends Options.Choice { PointPasses() { super("fwd", "fwdbwd", "step"); } }

        @Option(names = "--scope", defaultValue = "layer", converter = PointScopes.class) String scope;
        @Option(names = "--method", defaultValue = "favor-softmax", converter = Options.AllMethods.class) String method;
        @Option(names = "--direction", defaultValue = "bidir", converter = Options.DirectionsOrBoth.class)
        String direction;
        @Option(names = "--pass", defaultValue = "fwd", converter = PointPasses.class) String pass;
        @Option(names = "--L", defaultValue = "4096", converter = Options.AtLeast1.class) int l;
        @Option(names = "--batch", defaultValue = "1", converter = Options.AtLeast1.class) int b;
        @Option(names = "--heads", defaultValue = "8", converter = Options.AtLeast1.class) int h;
        @Option(names = "--dim", defaultValue = "64", converter = Options.AtLeast1.class) int d;
        @Option(names = "--features", defaultValue = "256", converter = Options.AtLeast1.class) int m;
        @Option(names = "--reps", defaultValue = "5", converter = Options.AtLeast1.class) int reps;
        @Option(names = "--warmup", defaultValue = "2", converter = Options.AtLeast0.class) int warmup;
        @Option(names = "--seed", defaultValue = "0", converter = Options.Whole.class) long seed;
        @Option(names = "--model", defaultValue = "paper", converter = Models.class) String modelName;
        @Mixin Options.KernelOptions kernels;

        @Override public Integer call() {
            boolean modelScope = scope.equals("model");
            boolean bwd = !pass.equals("fwd"), step = pass.equals("step");
            if (step && !modelScope) throw new UsageException("bench-point: --pass step needs --scope model");
            try (Kernels kern = kernels.kernels()) {
                if (!direction.equals("both")) {
                    Runnable once = point(kern, direction.equals("causal"), modelScope, bwd, step);
                    warmUp(once, warmup);
                    double[] t = new double[reps];
                    long[] alloc = {0};
                    for (int i = 0; i < reps; i++) t[i] = timed(once, alloc);
                    out.println("RESULT " + json(stats(t, alloc[0])));
                    return 0;
                }
                // interleaved: one run of each in turn, so that a drifting machine moves both alike
                Runnable bidir = point(kern, false, modelScope, bwd, step), causal = point(kern, true, modelScope, bwd,
                        step);
                warmUp(bidir, warmup);
                warmUp(causal, warmup);
                double[] tb = new double[reps], tc = new double[reps], ratio = new double[reps];
                long[] ab = {0}, ac = {0};
                for (int i = 0; i < reps; i++) { // which goes first alternates, so neither always follows the other
                    if (i % 2 == 0) { tb[i] = timed(bidir, ab); tc[i] = timed(causal, ac); }
                    else { tc[i] = timed(causal, ac); tb[i] = timed(bidir, ab); }
                    ratio[i] = tc[i] / tb[i];
                }
                Map<String, Double> rc = stats(tc, ac[0]);
                double[] rs = ratio.clone();
                Arrays.sort(rs);
                rc.put("ratio_median", Cli.median(ratio));
                rc.put("ratio_q1", rs[(reps - 1) / 4]);
                rc.put("ratio_q3", rs[(3 * (reps - 1) + 3) / 4]);
                out.println("RESULT bidir " + json(stats(tb, ab[0])));
                out.println("RESULT causal " + json(rc));
            }
            return 0;
        }

        /** One run of the point: a layer's forward (and backward), or a model's forward, backward, step. */
        private Runnable point(Kernels kern, boolean causal, boolean modelScope, boolean bwd, boolean step) {
            Dims dims = Dims.self(b, h, l, d);
            SplittableRandom r = new SplittableRandom(seed);
            float[] q = rand(r, dims.qSize()), k = rand(r, dims.kSize()), v = rand(r, dims.kSize());
            float[] o = new float[dims.qSize()];
            float[] dout = bwd ? rand(r, dims.qSize()) : null;
            float[] dq = bwd ? new float[q.length] : null, dk = bwd ? new float[k.length] : null, dv = bwd
                    ? new float[v.length] : null;
            if (modelScope) {
                ModelSize ms = ModelSize.of(modelName);
                ModelConfig cfg = ModelConfig.builder().vocab(ms.vocab()).maxLen(l).layers(ms.layers())
                        .width(h * d).heads(h)
                        .ffn(ms.ffn()).attention(AttentionSpec.of(method, m, l))
                                .direction(causal ? Direction.CAUSAL : Direction.BIDIRECTIONAL)
                        .positions(Positions.LEARNED).dropout(step ? 0.1f : 0f).build();
                PerformerModel model = new PerformerModel(cfg, kern, seed);
                AdamW opt = step ? new AdamW(model.layout(), AdamW.Config.defaults().withLr(1e-4f)) : null;
                int[] tok = new int[b * l], tgt = new int[b * l];
                for (int i = 0; i < tok.length; i++) {
                    tok[i] = r.nextInt(ms.vocab());
                    tgt[i] = r.nextInt(ms.vocab());
                }
                long[] stepNo = {0};
                return () -> {
                    model.forward(tok, tgt, b, l, null, step, stepNo[0]++);
                    if (bwd) { model.zeroGrad(); model.backward(); }
                    if (step) opt.step(model.params(), model.grads(), opt.config().lr());
                };
            }
            Attention att = AttentionSpec.of(method, m, l).buildStandalone(kern, d, h, l, causal, seed);
            // as a training loop calls it: each forward recycles the previous run's buffers
            Attention.Saved[] last = {null};
            return () -> {
                Attention.Saved s = att.forward(dims, q, k, v, null, o, last[0]);
                if (bwd) att.backward(s, dout, dq, dk, dv);
                last[0] = s;
            };
        }

        /** Milliseconds of one run; the bytes it allocated (all of this JVM's threads) are added to alloc[0]. */
        private static double timed(Runnable once, long[] alloc) {
            long a0 = ALLOCATED.getTotalThreadAllocatedBytes(), t0 = System.nanoTime();
            once.run();
            long t1 = System.nanoTime();
            alloc[0] += ALLOCATED.getTotalThreadAllocatedBytes() - a0;
            return (t1 - t0) / 1e6;
        }

        private static final com.sun.management.ThreadMXBean ALLOCATED =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        /** Median, min, max of the times, the MB allocated per run, and this JVM's peak RSS and heap. */
        private static Map<String, Double> stats(double[] t, long allocated) {
            double[] s = t.clone();
            Arrays.sort(s);
            double heap = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans())
                if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) heap += pool.getPeakUsage()
                        .getUsed();
            Map<String, Double> res = new LinkedHashMap<>();
            res.put("median_ms", Cli.median(t));
            res.put("min_ms", s[0]);
            res.put("max_ms", s[s.length - 1]);
            res.put("peak_rss_mb", Machine.peakRssMb());
            res.put("peak_heap_mb", heap / (1 << 20));
            res.put("alloc_mb", allocated / (double) t.length / (1 << 20));
            return res;
        }

        private static String json(Map<String, Double> res) {
            StringBuilder sb = new StringBuilder("{");
            int i = 0;
            for (var e : res.entrySet()) sb.append(i++ > 0 ? ", " : "").append('"').append(e.getKey())
                    .append("\": ").append(String.format(Locale.ROOT, "%.6g", e.getValue()));
            return sb.append('}').toString();
        }
    }

    /**
     * Runs at least {@code runs} times and 3 s, then until the timings settle (the last three within
     * 10% of each other, or one run longer than 3 s),
             for at most 60 s: on 2 cores the C2 compiler shares the CPU with the
     * work, and a model has many hot methods; until they are compiled the Vector API runs its slow
     * Java fallback (seen: 5× slower for 5 s).
     */
    static void warmUp(Runnable once, int runs) {
        long start = System.nanoTime();
        double[] last = new double[3];
        for (int i = 0; ; i++) {
            long t0 = System.nanoTime();
            once.run();
            long now = System.nanoTime();
            last[i % 3] = now - t0;
            double elapsed = (now - start) / 1e9;
            if (i + 1 < runs || elapsed < 3) continue;
            if (last[i % 3] > 3e9) return; // a run this long has let the JIT settle inside it
            if (i < 2) continue;
            double lo = Math.min(last[0], Math.min(last[1], last[2])),
                    hi = Math.max(last[0], Math.max(last[1], last[2]));
            if (hi <= 1.1 * lo || elapsed > 60) return;
        }
    }

    private static void plots(Table t, List<String> methods, List<String> dirs, List<String> passes,
                              Map<String, String> meta, Path dir, String what0) throws IOException {
        String foot = "machine: " + meta.get("cpu") + ", " + meta.get("cores") + " cores; " + meta.get("jdk")
                + "; backend "
                + meta.get("backend")
                        + ". Each point in a fresh JVM; median of reps; memory = peak RSS (VmHWM) of that JVM.";
        for (String dr : dirs) for (String ps : passes) {
            List<Plot.Series> time = new ArrayList<>(), mem = new ArrayList<>();
            for (String method : methods) {
                List<double[]> pts = new ArrayList<>();
                for (var row : t.rows)
                    if (row.get("method").equals(method) && row.get("direction").equals(dr) && row.get("pass")
                            .equals(ps) && "ok".equals(row.get("status")))
                        pts.add(new double[]{(int) row.get("L"), (double) row.get("median_ms") / 1000,
                                (double) row.get("peak_rss_mb") / 1024});
                if (pts.isEmpty()) continue;
                double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
                String label = method.equals("identity") ? "identity (X (OPT))" : method;
                time.add(new Plot.Series(label, x, pts.stream().mapToDouble(p -> p[1]).toArray(), null));
                mem.add(new Plot.Series(label, x, pts.stream().mapToDouble(p -> p[2]).toArray(), null));
            }
            if (time.isEmpty()) continue;
            String what = (ps.equals("fwd") ? "forward" : "forward+backward") + ", "
                    + (dr.equals("bidir") ? "bidirectional" : "causal");
            Plot.lineChart(dir.resolve("time_" + dr + "_" + ps + ".png"), what0 + " time, " + what, "sequence length L",
                    "seconds (median)", true, true, true, time, foot);
            Plot.lineChart(dir.resolve("memory_" + dr + "_" + ps + ".png"), what0 + " peak memory, " + what,
                    "sequence length L",
                    "peak RSS (GB)", true, true, true, mem, foot);
        }
    }
}
