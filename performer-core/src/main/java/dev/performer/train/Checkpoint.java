package dev.performer.train;

import dev.performer.data.Tokenizer;
import dev.performer.io.RecordMetadata;
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

    public static Path file(Path runDir, int step) {
        return runDir.resolve(String.format("checkpoint-%07d.safetensors", step));
    }

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

    /** The format tag in every checkpoint's metadata. */
    public static final String FORMAT = "performer-jvm/3";

    /** The previous format: protein models only (no {@code model.tokenizer}); read as PROTEIN. */
    static final String FORMAT_2 = "performer-jvm/2";

    /**
     * Writes a checkpoint (atomically): the model's parameters and FAVOR+ projections, the
     * optimizer's moments when opt is given, and in the metadata the model configuration
     * ({@code model.*}), the training configuration when tc is given ({@code train.*}), the
     * tokenizer, the step and the extra entries.
     */
    public static void save(Path file, PerformerModel model, AdamW opt, int step, TrainConfig tc,
                            Map<String, String> extra) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        ModelConfig c = model.config();
        RecordMetadata.write("model", c, meta);
        if (tc != null) RecordMetadata.write("train", tc, meta);
        meta.put("tokenizer", c.tokenizer().describe());
        meta.put("step", String.valueOf(step));
        meta.put("optim.t", String.valueOf(opt == null ? 0 : opt.steps()));
        if (opt != null) RecordMetadata.write("optim.config", opt.config(), meta);
        meta.putAll(extra);
        List<SafeTensors.Tensor> ts = new ArrayList<>();
        for (ParameterLayout.View v : model.layout().views())
            ts.add(new SafeTensors.Tensor(v.name(), v.shape(), model.params(), v.offset()));
        if (opt != null) {
            ts.add(new SafeTensors.Tensor("optim.m", new int[]{opt.m.length}, opt.m, 0));
            ts.add(new SafeTensors.Tensor("optim.v", new int[]{opt.v.length}, opt.v, 0));
        }
        for (int l = 0; l < c.layers(); l++) {
            float[] w = model.projection(l);
            if (w != null)
                ts.add(new SafeTensors.Tensor("favor.h" + l, new int[]{w.length / c.headDim(), c.headDim()}, w, 0));
        }
        SafeTensors.write(file, meta, ts);
    }

    /**
     * A loaded checkpoint: the model (projections restored), the optimizer state if saved, the
     * step, the training configuration if saved, and all the metadata.
     */
    public record Loaded(PerformerModel model, AdamW optimizer, int step, Optional<TrainConfig> training,
                         Map<String, String> metadata) {}

    public static Loaded load(Path file, Kernels kern) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> m = c.metadata();
        String src = file.toString();
        if (FORMAT_2.equals(m.get("format")) && !m.containsKey("model.tokenizer")) {
            m = new LinkedHashMap<>(m);
            m.put("model.tokenizer", Tokenizer.PROTEIN.name());
        }
        if (!FORMAT.equals(m.get("format")) && !FORMAT_2.equals(m.get("format")))
            throw new IOException(file + ": not a " + FORMAT + " checkpoint (format " + m.get("format")
                    + (String.valueOf(m.get("format")).startsWith("performer-jvm/")
                            ? ", from another version of performer-jvm" : "") + ")");
        ModelConfig cfg = RecordMetadata.read("model", ModelConfig.class, m, src);
        Optional<TrainConfig> tc = m.containsKey("train.steps")
                ? Optional.of(RecordMetadata.read("train", TrainConfig.class, m, src))
                : Optional.empty();
        PerformerModel model = new PerformerModel(cfg, kern, 0);
        for (ParameterLayout.View v : model.layout().views()) {
            float[] t = tensor(c, v.name(), v.size(), file);
            System.arraycopy(t, 0, model.params(), v.offset(), v.size());
        }
        for (int l = 0; l < cfg.layers(); l++) {
            float[] w = model.projection(l);
            if (w != null) model.setProjection(l, tensor(c, "favor.h" + l, w.length, file));
        }
        AdamW opt = null;
        if (c.tensors().containsKey("optim.m") || c.tensors().containsKey("optim.v")) {
            AdamW.Config oc = RecordMetadata.read("optim.config", AdamW.Config.class, m, src);
            opt = new AdamW(model.layout(), oc);
            System.arraycopy(tensor(c, "optim.m", opt.m.length, file), 0, opt.m, 0, opt.m.length);
            System.arraycopy(tensor(c, "optim.v", opt.v.length, file), 0, opt.v, 0, opt.v.length);
            opt.t = number(m, "optim.t", file);
        }
        return new Loaded(model, opt, Math.toIntExact(number(m, "step", file)), tc, m);
    }

    /** A tensor of the expected size with finite values, or an IOException naming the file and the tensor. */
    private static float[] tensor(SafeTensors.Contents c, String name, int size, Path file) throws IOException {
        float[] t = c.tensors().get(name);
        if (t == null) throw new IOException(file + ": tensor " + name + " is missing");
        if (t.length != size)
            throw new IOException(file + ": tensor " + name + " holds " + t.length + " values, expected " + size);
        for (int i = 0; i < t.length; i++)
            if (!Float.isFinite(t[i]))
                throw new IOException(file + ": tensor " + name + " has a non-finite value " + t[i] + " at " + i);
        return t;
    }

    private static long number(Map<String, String> m, String key, Path file) throws IOException {
        String s = m.get(key);
        try {
            long x = Long.parseLong(String.valueOf(s));
            if (x < 0 || x > Integer.MAX_VALUE) throw new NumberFormatException();
            return x;
        } catch (NumberFormatException e) {
            throw new IOException(file + ": metadata field " + key + " is " + (s == null ? "missing" : "'" + s + "'")
                    + ", not a step count");
        }
    }
}
