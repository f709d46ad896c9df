package dev.performer.model;

/**
 * How well a model predicts one record: the sum of the natural-log probabilities it gives to the
 * record's tokens, and how many tokens that is.
 * <ul>
 *   <li>causal models: log p(x) = Σ_t log p(x_t | x_&lt;t) over the symbols and the end marker,</li>
 *   <li>bidirectional (masked) models: the pseudo-log-likelihood Σ_i log p(x_i | x with x_i
 *   masked) over the symbols (Salazar et al. 2020), one forward per symbol ({@code pseudo}).</li>
 * </ul>
 *
 * @param logLikelihood Σ log p, in nats (≤ 0)
 * @param tokens        the predicted tokens
 * @param pseudo        whether it is a pseudo-log-likelihood (a masked model's)
 */
public record Score(double logLikelihood, int tokens, boolean pseudo) {
    public Score {
        if (tokens < 0) throw new IllegalArgumentException("tokens must be >= 0, got " + tokens);
    }

    /** exp(−log-likelihood / tokens) (NaN without tokens). */
    public double perplexity() { return tokens == 0 ? Double.NaN : Math.exp(-logLikelihood / tokens); }

    /** −log-likelihood / tokens / ln 2: bits per token (per residue, dimension or byte). */
    public double bitsPerToken() { return tokens == 0 ? Double.NaN : -logLikelihood / tokens / Math.log(2); }
}
