package io.prefork.supervisor;

import io.prefork.unix.NativeException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** What an I/O failure means to a user, in one phrase, for the one line that reports it. */
public final class IoReason {
    private IoReason() {
    }

    /** The part of an IOException a user needs; the JDK's file exceptions carry only the path. */
    public static String of(IOException e) {
        if (e instanceof NativeException ne) {
            return ne.reason();
        }
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage();
    }
}
