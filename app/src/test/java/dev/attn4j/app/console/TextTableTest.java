package dev.attn4j.app.console;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TextTableTest {

    @Test
    void padsTextLeftAndNumbersRight() {
        StringWriter s = new StringWriter();
        new TextTable("NAME", "N", "NOTE").row("cpu", 100, "ok").row("opencl", 7, null).print(new PrintWriter(s, true));

        assertEquals("""
                NAME    N    NOTE
                cpu     100  ok
                opencl    7
                """, s.toString());
    }

    @Test
    void rejectsARowOfTheWrongWidth() {
        TextTable t = new TextTable("A", "B");
        assertThrows(IllegalArgumentException.class, () -> t.row("only one"));
    }
}
