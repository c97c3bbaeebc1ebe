// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the checkpoint/restart core: runs the Rust tests of
 * rust/checkpoint/selftest.rs.
 */

#include <kunit/test.h>
#include <linux/checkpoint.h>

static void ckpt_test_objhash(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, ckpt_kunit_objhash(), 0,
			    "failed check at rust/checkpoint/selftest.rs line");
}

static void ckpt_test_objhash_fetch(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, ckpt_kunit_objhash_fetch(), 0,
			    "failed check at rust/checkpoint/selftest.rs line");
}

static void ckpt_test_cred_needs(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, ckpt_kunit_cred_needs(), 0,
			    "failed check at rust/checkpoint/selftest.rs line");
}

static void ckpt_test_deferqueue(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, ckpt_kunit_deferqueue(), 0,
			    "failed check at rust/checkpoint/selftest.rs line");
}

static struct kunit_case ckpt_test_cases[] = {
	KUNIT_CASE(ckpt_test_objhash),
	KUNIT_CASE(ckpt_test_objhash_fetch),
	KUNIT_CASE(ckpt_test_cred_needs),
	KUNIT_CASE(ckpt_test_deferqueue),
	{}
};

static struct kunit_suite ckpt_test_suite = {
	.name = "checkpoint",
	.test_cases = ckpt_test_cases,
};
kunit_test_suite(ckpt_test_suite);

MODULE_LICENSE("GPL");
