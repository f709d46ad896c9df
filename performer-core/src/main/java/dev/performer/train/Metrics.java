package dev.performer.train;

/**
 * Loss (mean cross-entropy in nats per target), accuracy and perplexity exp(loss) over a number of
 * targets: the masked positions of a masked LM, every position of a next-token LM.
 */
public record Metrics(double loss, double accuracy, double perplexity, long targets) {

    /**
     * The loss in bits per target, loss / ln 2: for a next-token model of images, the paper's bits per
     * dimension (every sub-pixel is a target); of bytes, bits per byte.
     */
    public double bits() { return loss / Math.log(2); }
}
