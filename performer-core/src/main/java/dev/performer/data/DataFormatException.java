package dev.performer.data;

import java.io.IOException;

/** Input data that is malformed, truncated or unreadable: the message names the file (and the record or line). */
public class DataFormatException extends IOException {
    public DataFormatException(String msg) { super(msg); }
}
