package dev.performer.train;

/**
 * Loss (mean cross-entropy in nats per target), accuracy and perplexity exp(loss) over a number of
 * targets: the masked positions of a masked LM, every position of a next-token LM.
 */
public record Metrics(double loss, double accuracy, double perplexity, long targets) {}
