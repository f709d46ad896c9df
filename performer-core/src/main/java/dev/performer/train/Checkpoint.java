package dev.performer.train;

import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.model.ModelConfig;
import dev.performer.model.ParameterLayout;
import dev.performer.model.PerformerModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints as safetensors: every parameter view under its name, the AdamW moments
 * ({@code optim.m}, {@code optim.v}), the FAVOR+ projection of each layer ({@code favor.h{i}}),
 * and in the metadata the model configuration, tokenizer, step, seeds and training settings.
 * Data order, dropout and redraws are functions of (seed, step), so a run resumed from step s
 * continues exactly as the uninterrupted run would.
 */
public final class Checkpoint {

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)\\.safetensors");

    private Checkpoint() {}

    public static Path file(Path runDir, int step) { return runDir.resolve(String.format("checkpoint-%07d.safetensors", step)); }

    /** The checkpoint with the highest step in a run folder. */
    public static Optional<Path> latest(Path runDir) throws IOException {
        if (!Files.isDirectory(runDir)) return Optional.empty();
        try (Stream<Path> s = Files.list(runDir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .max((a, b) -> Integer.compare(step(a), step(b)));
        }
    }

    static int step(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    public static void save(Path file, PerformerModel model, AdamW opt, int step, Map<String, String> extra) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "performer-jvm/1");
        ModelConfig c = model.config();
        meta.put("model.vocab", String.valueOf(c.vocab()));
        meta.put("model.maxLen", String.valueOf(c.maxLen()));
        meta.put("model.layers", String.valueOf(c.layers()));
        meta.put("model.width", String.valueOf(c.width()));
        meta.put("model.heads", String.valueOf(c.heads()));
        meta.put("model.ffn", String.valueOf(c.ffn()));
        meta.put("model.attention", c.attention());
        meta.put("model.causal", String.valueOf(c.causal()));
        meta.put("model.features", String.valueOf(c.features()));
        meta.put("model.orthogonal", String.valueOf(c.orthogonal()));
        meta.put("model.positional", c.positional());
        meta.put("model.dropout", String.valueOf(c.dropout()));
        meta.put("tokenizer", Tokenizer.describe());
        meta.put("step", String.valueOf(step));
        meta.put("optim.t", String.valueOf(opt == null ? 0 : opt.steps()));
        meta.putAll(extra);
        List<SafeTensors.Tensor> ts = new ArrayList<>();
        for (ParameterLayout.View v : model.layout().views()) ts.add(new SafeTensors.Tensor(v.name(), v.shape(), model.params(), v.offset()));
        if (opt != null) {
            ts.add(new SafeTensors.Tensor("optim.m", new int[]{opt.m.length}, opt.m, 0));
            ts.add(new SafeTensors.Tensor("optim.v", new int[]{opt.v.length}, opt.v, 0));
        }
        for (int l = 0; l < c.layers(); l++) {
            float[] w = model.projection(l);
            if (w != null) ts.add(new SafeTensors.Tensor("favor.h" + l, new int[]{c.features(), c.headDim()}, w, 0));
        }
        SafeTensors.write(file, meta, ts);
    }

    /** A loaded checkpoint: the model (projections restored), the optimizer state if saved, and the metadata. */
    public record Loaded(PerformerModel model, AdamW optimizer, int step, Map<String, String> metadata) {}

    public static Loaded load(Path file, Kernels kern) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> m = c.metadata();
        if (!"performer-jvm/1".equals(m.get("format"))) throw new IOException(file + ": not a performer-jvm checkpoint (format " + m.get("format") + ")");
        ModelConfig cfg;
        try {
            cfg = new ModelConfig(Integer.parseInt(m.get("model.vocab")), Integer.parseInt(m.get("model.maxLen")),
                    Integer.parseInt(m.get("model.layers")), Integer.parseInt(m.get("model.width")), Integer.parseInt(m.get("model.heads")),
                    Integer.parseInt(m.get("model.ffn")), m.get("model.attention"), Boolean.parseBoolean(m.get("model.causal")),
                    Integer.parseInt(m.get("model.features")), Boolean.parseBoolean(m.get("model.orthogonal")), m.get("model.positional"),
                    Float.parseFloat(m.get("model.dropout")));
        } catch (RuntimeException e) {
            throw new IOException(file + ": bad model configuration in metadata (" + e.getMessage() + ")");
        }
        PerformerModel model = new PerformerModel(cfg, kern, 0);
        for (ParameterLayout.View v : model.layout().views()) {
            float[] t = c.tensors().get(v.name());
            if (t == null || t.length != v.size()) throw new IOException(file + ": tensor " + v.name() + " missing or of the wrong size");
            System.arraycopy(t, 0, model.params(), v.offset(), v.size());
        }
        for (int l = 0; l < cfg.layers(); l++) {
            float[] w = c.tensors().get("favor.h" + l);
            if (model.projection(l) != null) {
                if (w == null) throw new IOException(file + ": FAVOR+ projection favor.h" + l + " missing");
                model.setProjection(l, w);
            }
        }
        AdamW opt = null;
        float[] mm = c.tensors().get("optim.m"), vv = c.tensors().get("optim.v");
        if (mm != null && vv != null) {
            opt = new AdamW(model.layout());
            System.arraycopy(mm, 0, opt.m, 0, opt.m.length);
            System.arraycopy(vv, 0, opt.v, 0, opt.v.length);
            opt.t = Long.parseLong(m.getOrDefault("optim.t", "0"));
        }
        return new Loaded(model, opt, Integer.parseInt(m.getOrDefault("step", "0")), m);
    }
}
