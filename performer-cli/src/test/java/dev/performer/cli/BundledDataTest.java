package dev.performer.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.data.FastaReader;
import dev.performer.data.SequenceData;
import dev.performer.data.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The protein sample bundled with the command line reads as its README describes, with its license. */
class BundledDataTest {

    private static final String DIR = "/dev/performer/cli/data/";

    @Test
    void bundledSampleReadsAsWritten() throws IOException {
        try (var in = BundledDataTest.class.getResourceAsStream(DIR + "swissprot2014_sample_train.fasta")) {
            assertNotNull(in, "bundled sample in the jar resources");
            SequenceData d = new SequenceData();
            SequenceData.readAll(List.of(FastaReader.open("bundled", in)), Tokenizer.Unknown.MAP_TO_X, d, null, 0, 0,
                    null);
            assertEquals(3000, d.size(), "the sample's README: 3,000 sequences");
            assertEquals(1.03e6, d.residues(), 0.01e6, "the sample's README: 1.03 M residues");
        }
        try (var in = BundledDataTest.class.getResourceAsStream(DIR + "README.md")) {
            assertNotNull(in, "the sample's README with its attribution");
            assertTrue(new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("CC BY 4.0"));
        }
    }
}
