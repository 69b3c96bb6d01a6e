/*
 * The monitor's expressions, as QEMU 7.2's monitor evaluates them
 * (monitor/hmp.c get_expr): the arguments of x, xp, print, memsave,
 * pmemsave, cpu and balloon are expressions, so `x /4xg $esp` and
 * `p 0x1000 + 4 * 8` work as on QEMU.
 *
 *   sum    := logic { ('+' | '-') logic }
 *   logic  := prod  { ('&' | '|' | '^') prod }
 *   prod   := unary { ('*' | '/' | '%') unary }
 *   unary  := '+' unary | '-' unary | '~' unary | '(' sum ')'
 *           | '\'' CHAR '\'' | '$' NAME | NUMBER (C notation: 10, 0x1f, 017)
 *
 * Note QEMU's precedence, which differs from C's: & | ^ bind tighter than
 * + and -, and all of them are left-associative at their level.  The values
 * are 64-bit and wrap as QEMU's int64_t arithmetic does on x86.
 */
#ifndef HVKIT_MGMT_HMP_EXPR_H
#define HVKIT_MGMT_HMP_EXPR_H

#include <stdint.h>
#include <stdio.h>

/* Look up register `name` (without the '$'); 0 and *val on success, -1 if
 * there is no such register. */
typedef int (*hmp_reg_fn)(void *ctx, const char *name, int64_t *val);

/*
 * Evaluate the expression at *pp (leading spaces skipped), leave *pp after
 * it and the spaces that follow, and return 0 with the value in *val.  On
 * an error print QEMU's message and a newline on `out` ("unexpected end of
 * expression", "')' expected", "division by zero", "unknown register",
 * "number too large", "invalid char 'C' in expression", ...) and return -1.
 */
int hmp_expr(FILE *out, const char **pp, hmp_reg_fn reg, void *ctx, int64_t *val);

#endif
