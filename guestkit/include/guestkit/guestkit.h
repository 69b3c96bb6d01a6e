/* Everything a guestkit test guest usually needs, in one include. */
#ifndef GUESTKIT_H
#define GUESTKIT_H

#include "klib.h"
#include "guestkit/x86.h"
#include "guestkit/console.h"
#include "guestkit/report.h"
#include "guestkit/runtime.h"
#include "guestkit/trap.h"
#include "guestkit/msr.h"
#include "guestkit/hvkit.h"
#include "guestkit/user.h"

#endif
