// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: credentials (sys/cred.rs), read as seen from
 * the caller's user namespace and built with the checks of the system calls
 * that set them.
 */

#include <linux/checkpoint.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/security.h>
#include <linux/securebits.h>
#include <linux/syscalls.h>
#include <linux/uidgid.h>

/* Number of supplementary groups of @cred. */
unsigned int ckpt_cred_ngroups(const struct cred *cred)
{
	return cred->group_info->ngroups;
}

unsigned int ckpt_caller_ngroups(void)
{
	return ckpt_cred_ngroups(current_cred());
}

static void ckpt_read_cred(const struct cred *cred, struct ckpt_cred *c,
			   u32 *groups, bool munged)
{
	struct user_namespace *ns = current_user_ns();
	const struct group_info *gi = cred->group_info;
	uid_t (*uid)(struct user_namespace *, kuid_t) =
		munged ? from_kuid_munged : from_kuid;
	gid_t (*gid)(struct user_namespace *, kgid_t) =
		munged ? from_kgid_munged : from_kgid;
	int i;

	c->uids[0] = uid(ns, cred->uid);
	c->uids[1] = uid(ns, cred->euid);
	c->uids[2] = uid(ns, cred->suid);
	c->uids[3] = uid(ns, cred->fsuid);
	c->gids[0] = gid(ns, cred->gid);
	c->gids[1] = gid(ns, cred->egid);
	c->gids[2] = gid(ns, cred->sgid);
	c->gids[3] = gid(ns, cred->fsgid);
	c->securebits = cred->securebits;
	c->caps[0] = cred->cap_inheritable.val;
	c->caps[1] = cred->cap_permitted.val;
	c->caps[2] = cred->cap_effective.val;
	c->caps[3] = cred->cap_bset.val;
	c->caps[4] = cred->cap_ambient.val;
	c->ngroups = gi->ngroups;
	for (i = 0; i < gi->ngroups; i++)
		groups[i] = gid(ns, gi->gid[i]);
}

/*
 * What a cred record saves of @cred, ids as seen from the caller's user
 * namespace (unmapped ones as the overflow id); @groups has room for
 * ckpt_cred_ngroups() ids.
 */
void ckpt_get_cred(const struct cred *cred, struct ckpt_cred *c, u32 *groups)
{
	ckpt_read_cred(cred, c, groups, true);
}

/*
 * The caller's own credentials, for the Rust core to compare a cred record
 * with: unmapped ids read as -1, which no record can name.
 */
void ckpt_get_caller_cred(struct ckpt_cred *c, u32 *groups)
{
	ckpt_read_cred(current_cred(), c, groups, false);
}

static bool ckpt_groups_equal(const struct group_info *a,
			      const struct group_info *b)
{
	return a->ngroups == b->ngroups &&
	       !memcmp(a->gid, b->gid, a->ngroups * sizeof(kgid_t));
}

/* The ids of @c into @new: -EINVAL for ids unmapped in the caller's. */
static int ckpt_prepare_ids(struct cred *new, const struct ckpt_cred *c)
{
	struct user_namespace *ns = current_user_ns();
	kuid_t u[4];
	kgid_t g[4];
	int i;

	for (i = 0; i < 4; i++) {
		u[i] = make_kuid(ns, c->uids[i]);
		g[i] = make_kgid(ns, c->gids[i]);
		if (!uid_valid(u[i]) || !gid_valid(g[i]))
			return -EINVAL;
	}
	new->uid = u[0];
	new->euid = u[1];
	new->suid = u[2];
	new->fsuid = u[3];
	new->gid = g[0];
	new->egid = g[1];
	new->sgid = g[2];
	new->fsgid = g[3];
	return 0;
}

/* The groups of @c into @new: -EINVAL for groups unmapped in the caller's. */
static int ckpt_prepare_groups(struct cred *new, const struct ckpt_cred *c,
			       const u32 *groups)
{
	struct user_namespace *ns = current_user_ns();
	struct group_info *gi = groups_alloc(c->ngroups);
	int i, ret = 0;

	if (!gi)
		return -ENOMEM;
	for (i = 0; i < c->ngroups; i++) {
		gi->gid[i] = make_kgid(ns, groups[i]);
		if (!gid_valid(gi->gid[i]))
			ret = -EINVAL;
	}
	groups_sort(gi);
	if (!ret)
		set_groups(new, gi);
	put_group_info(gi);
	return ret;
}

/*
 * The privileges @needs (CKPT_NEED_*) that the Rust core found a cred record
 * needs beyond the caller's own credentials (cred.rs: needs()), checked as
 * the system calls that would set those parts check them.
 */
static int ckpt_check_needs(u32 needs, const struct cred *old)
{
	if ((needs & CKPT_NEED_SETUID) &&
	    !ns_capable_setid(old->user_ns, CAP_SETUID))
		return -EPERM;
	if ((needs & CKPT_NEED_SETGID) &&
	    !ns_capable_setid(old->user_ns, CAP_SETGID))
		return -EPERM;
	if ((needs & CKPT_NEED_SETGROUPS) && !may_setgroups())
		return -EPERM;
	if ((needs & CKPT_NEED_SETPCAP) &&
	    !ns_capable(current_user_ns(), CAP_SETPCAP))
		return -EPERM;
	return 0;
}

/*
 * Capabilities and securebits of @c into @new. capset() checks the
 * permitted, effective and inheritable sets (through the LSM hook); the
 * rest of PR_CAPBSET_DROP, PR_CAP_AMBIENT_RAISE and PR_SET_SECUREBITS was
 * checked by the Rust core and ckpt_check_needs().
 */
static int ckpt_prepare_caps(struct cred *new, const struct ckpt_cred *c,
			     const struct cred *old)
{
	kernel_cap_t inh = { c->caps[0] }, prm = { c->caps[1] };
	kernel_cap_t eff = { c->caps[2] };
	int ret;

	ret = security_capset(new, old, &eff, &inh, &prm);
	if (ret)
		return ret;
	new->cap_bset.val = c->caps[3];
	new->cap_ambient.val = c->caps[4];
	new->securebits = c->securebits;
	return 0;
}

/*
 * Builds the credentials of a cred record: the caller's, with the record's
 * ids (from the caller's user namespace), groups, capabilities and
 * securebits, given the privileges @needs they take beyond the caller's
 * (-EPERM without them); unmapped ids give -EINVAL. Files of the
 * image are reopened with them; ckpt_commit_cred() makes them the caller's.
 */
struct cred *ckpt_prepare_cred(const struct ckpt_cred *c, const u32 *groups,
			       u32 needs)
{
	const struct cred *old = current_cred();
	struct cred *new = prepare_creds();
	int ret;

	if (!new)
		return ERR_PTR(-ENOMEM);
	ret = ckpt_prepare_ids(new, c);
	if (!ret)
		ret = ckpt_prepare_groups(new, c, groups);
	if (!ret)
		ret = ckpt_check_needs(needs, old);
	if (!ret)
		ret = ckpt_prepare_caps(new, c, old);
	if (ret) {
		abort_creds(new);
		return ERR_PTR(ret);
	}
	return new;
}

/*
 * Makes the caller's credentials those built by ckpt_prepare_cred(). Groups
 * and ids go through setgroups(), setresgid(), setfsgid(), setresuid() and
 * setfsuid() themselves, so that the user_struct, ucounts, RLIMIT_NPROC
 * accounting and LSM hooks follow as for those calls; then capabilities and
 * securebits, checked against the caller's when they were built.
 */
int ckpt_commit_cred(const struct cred *c)
{
	struct user_namespace *ns = current_user_ns();
	struct cred *new;
	int ret = 0;

	if (!ckpt_groups_equal(c->group_info, current_cred()->group_info))
		ret = may_setgroups() ? set_current_groups(c->group_info) :
					-EPERM;
	if (!ret)
		ret = __sys_setresgid(from_kgid(ns, c->gid),
				      from_kgid(ns, c->egid),
				      from_kgid(ns, c->sgid));
	if (!ret) {
		__sys_setfsgid(from_kgid(ns, c->fsgid));
		ret = __sys_setresuid(from_kuid(ns, c->uid),
				      from_kuid(ns, c->euid),
				      from_kuid(ns, c->suid));
	}
	if (!ret)
		__sys_setfsuid(from_kuid(ns, c->fsuid));
	if (ret)
		return ret;
	if (!uid_eq(current_fsuid(), c->fsuid) ||
	    !gid_eq(current_fsgid(), c->fsgid))
		return -EPERM;

	new = prepare_creds();
	if (!new)
		return -ENOMEM;
	new->cap_inheritable = c->cap_inheritable;
	new->cap_permitted = c->cap_permitted;
	new->cap_effective = c->cap_effective;
	new->cap_bset = c->cap_bset;
	new->cap_ambient = c->cap_ambient;
	new->securebits = c->securebits;
	return commit_creds(new);
}
