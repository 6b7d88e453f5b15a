package dev.attn4j.ports.attention;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The one (causal, n) rule of FlashMask and the meaning of each form, row by row on hand-made columns. */
class FlashMaskFormTest {

    @Test
    void exactlyFourPairsAreForms() {
        List<String> forms = new ArrayList<>();
        for (boolean causal : new boolean[] {true, false}) {
            for (int n = 0; n <= 5; n++) {
                Optional<FlashMaskForm> f = FlashMaskForm.of(causal, n);
                f.ifPresent(form -> forms.add(form.causal() + "/" + form.n()));
            }
        }
        assertEquals(List.of("true/1", "true/2", "false/2", "false/4"), forms);
    }

    @Test
    void anUndefinedPairIsRejectedNamingTheCallersArgument() {
        InvalidRequestException four = assertThrows(InvalidRequestException.class,
                () -> FlashMaskForm.require("flashMask", true, 4));
        assertEquals("flashMask", four.argument());
        InvalidRequestException one = assertThrows(InvalidRequestException.class, () -> FlashMaskForm.require("n", false, 1));
        assertEquals("n", one.argument());
        assertThrows(InvalidRequestException.class, () -> FlashMaskForm.require("n", true, 3));
        assertEquals(FlashMaskForm.OUTSIDE_BAND, FlashMaskForm.require("n", false, 2));
    }

    @Test
    void anAttentionCallsMismatchIsTheCausalFlagsAndABadWidthTheMasks() {
        assertEquals("causal", assertThrows(InvalidRequestException.class, () -> FlashMaskForm.requireFlag(true, 4)).argument());
        assertEquals("causal", assertThrows(InvalidRequestException.class, () -> FlashMaskForm.requireFlag(false, 1)).argument());
        assertEquals("flashMask", assertThrows(InvalidRequestException.class, () -> FlashMaskForm.requireFlag(true, 3)).argument());
        assertEquals(FlashMaskForm.CAUSAL_BAND, FlashMaskForm.requireFlag(true, 2));
    }

    /** Masked rows among 0..5 of a column whose values start at offset 1 of {@code column}. */
    private static List<Integer> masked(FlashMaskForm form, int... values) {
        int[] column = new int[values.length + 1];
        System.arraycopy(values, 0, column, 1, values.length);
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            if (form.masks(i, column, 1)) {
                rows.add(i);
            }
        }
        return rows;
    }

    @Test
    void eachFormMasksTheRowsDesignSays() {
        assertEquals(List.of(4, 5), masked(FlashMaskForm.CAUSAL_START, 4));
        assertEquals(List.of(), masked(FlashMaskForm.CAUSAL_START, 9));            // above Sq = 6 acts as Sq
        assertEquals(List.of(2, 3), masked(FlashMaskForm.CAUSAL_BAND, 2, 4));
        assertEquals(List.of(0, 4, 5), masked(FlashMaskForm.OUTSIDE_BAND, 4, 1));   // >= LTS or < UTE
        assertEquals(List.of(0, 1, 2, 3, 4, 5), masked(FlashMaskForm.OUTSIDE_BAND, 0, 9));
        assertEquals(List.of(1, 4), masked(FlashMaskForm.TWO_BANDS, 1, 2, 4, 5));
    }
}
