package io.prefork.supervisor;

import java.io.IOException;

/** The log file, if logging goes to one: reopened on USR1. */
public interface ReopenableLog {
    void reopen() throws IOException;
}
