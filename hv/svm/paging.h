/*
 * paging.h - the nested page table (NPT) entry format (paging.c), for the backend
 * and the hosted unit tests.
 */
#ifndef HV_SVM_PAGING_H
#define HV_SVM_PAGING_H

#include "core/slat.h"

extern const struct slat_format svm_npt_format;

#endif
