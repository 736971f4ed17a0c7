/* Fuzz target: the core's certificate name code. The input is read twice:
 * as a DER Name for the printer (dk__x509_name_text), and as text for the
 * parser behind dk_cert_generate_self_signed (dk__x509_name_parse).
 *   - what prints, and parses, prints the same text again (but for the
 *     order inside a multi-valued RDN, which the parser sorts);
 *   - what parses prints, and that text parses to a Name that prints the
 *     same (parse and print are each other's inverse on their output);
 *   - the whole input as a certificate goes through dk__x509_read, and the
 *     fields it finds lie inside the input and print or fail cleanly. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "x509_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char text1[16384], text2[16384];
static uint8_t der1[DK__NAME_DER_MAX], der2[DK__NAME_DER_MAX];

static void valid_text(const char *t)
{
    /* Printed names are one line of UTF-8 without control characters. */
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();
}

/* True when printed text holds an unescaped '+'. */
static bool multi_valued(const char *t)
{
    for (; *t; t++) {
        if (*t == '\\' && t[1])
            t++;
        else if (*t == '+')
            return true;
    }
    return false;
}

static void print_then_parse(const uint8_t *data, size_t size)
{
    dk_err e = dk__x509_name_text(data, size, text1, sizeof text1);
    if (e != DK_OK)
        return;
    valid_text(text1);
    size_t len;
    char cn[64], why[200];
    if (dk__x509_name_parse(text1, der1, sizeof der1, &len, cn, sizeof cn, why, sizeof why) !=
        DK_OK)
        return; /* an empty name, or beyond the parser's limits */
    if (dk__x509_name_text(der1, len, text2, sizeof text2) != DK_OK)
        abort();
    /* The same text, except that the parser sorts the attributes of a
     * multi-valued RDN (DER's SET OF order) and the input's may not be:
     * then the text must be stable from the second print on. */
    if (strcmp(text1, text2) != 0) {
        if (!multi_valued(text1))
            abort();
        if (dk__x509_name_parse(text2, der1, sizeof der1, &len, cn, sizeof cn, why, sizeof why) !=
                DK_OK ||
            dk__x509_name_text(der1, len, text1, sizeof text1) != DK_OK || strcmp(text1, text2))
            abort();
    }
}

static void parse_then_print(const uint8_t *data, size_t size)
{
    static char in[4096];
    if (size >= sizeof in)
        return;
    memcpy(in, data, size);
    in[size] = '\0';
    size_t len, len2;
    char cn[64], why[200];
    if (dk__x509_name_parse(in, der1, sizeof der1, &len, cn, sizeof cn, why, sizeof why) != DK_OK) {
        if (!why[0] || strlen(why) >= sizeof why)
            abort(); /* every refusal says why */
        return;
    }
    if (strlen(cn) >= sizeof cn || !dk__der_is_one(der1, len))
        abort();
    if (dk__x509_name_text(der1, len, text1, sizeof text1) != DK_OK)
        abort();
    valid_text(text1);
    if (dk__x509_name_parse(text1, der2, sizeof der2, &len2, cn, sizeof cn, why, sizeof why) !=
            DK_OK ||
        dk__x509_name_text(der2, len2, text2, sizeof text2) != DK_OK || strcmp(text1, text2) != 0)
        abort();
}

static void certificate(const uint8_t *data, size_t size)
{
    dk__x509_fields f;
    if (!dk__x509_read(data, size, &f))
        return;
    const dk__der *w[] = {&f.issuer, &f.subject, &f.not_before, &f.not_after};
    for (size_t i = 0; i < 4; i++)
        if (w[i]->p < data || w[i]->n > size || w[i]->p + w[i]->n > data + size)
            abort();
    int64_t t;
    dk__x509_time(f.not_before_tag, f.not_before.p, f.not_before.n, &t);
    dk__x509_name_text(f.subject.p, f.subject.n, text1, sizeof text1);
    dk__x509_name_text(f.issuer.p, f.issuer.n, text1, sizeof text1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size copies: a read past the end is caught. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    print_then_parse(copy, size);
    parse_then_print(copy, size);
    certificate(copy, size);
    free(copy);
    return 0;
}
