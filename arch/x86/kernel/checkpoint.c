// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 glue of checkpoint/restart: what the Rust core
 * (arch/x86/kernel/checkpoint/) needs from x86 internals to restore the
 * caller as the task of an image.
 */

#include <linux/checkpoint.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/regset.h>
#include <asm/fpu/api.h>
#include <asm/fpu/regset.h>
#include <asm/fpu/sched.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xstate.h>
#include <asm/prctl.h>
#include <asm/proto.h>
#include <asm/segment.h>
#include <asm/vdso.h>

unsigned long ckpt_task_size(void)
{
	return TASK_SIZE;
}

u64 ckpt_xstate_features(void)
{
	return fpu_user_cfg.max_features;
}

/* Size of the XSAVE area in the format user space sees (ptrace, core dumps). */
unsigned int ckpt_xstate_size(void)
{
	return fpu_user_cfg.max_size;
}

/* Copies the extended state of @task (stopped, or current) in that format. */
int ckpt_xstate_get(struct task_struct *task, void *buf, unsigned int size)
{
	struct membuf to = { .p = buf, .left = size };

	return xstateregs_get(task, NULL, to);
}

/*
 * Checks an XSAVE area in the standard (ptrace) format, of this CPU's size,
 * as loading it into the caller would (ckpt_xstate_set()): components
 * without permission, MXCSR reserved bits, a compacted or reserved header
 * give -EINVAL. Restart checks before it changes anything.
 */
int ckpt_xstate_check(const void *buf, unsigned int size)
{
	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return -ENODEV;
	if (size != fpu_user_cfg.max_size)
		return -EINVAL;
	return check_uabi_xstate(current->thread.fpu.fpstate, buf);
}

/*
 * Loads an XSAVE area in the standard (ptrace) format into the caller's
 * extended state. The registers are reloaded from it on return to user
 * space, as after sigreturn. The size must be this CPU's; the header is
 * validated (components the CPU lacks give -EINVAL).
 */
int ckpt_xstate_set(const void *buf, unsigned int size)
{
	struct fpu *fpu = &current->thread.fpu;
	int ret;

	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return -ENODEV;
	if (size != fpu_user_cfg.max_size)
		return -EINVAL;

	fpregs_lock();
	if (!test_thread_flag(TIF_NEED_FPU_LOAD)) {
		save_fpregs_to_fpstate(fpu);
		set_thread_flag(TIF_NEED_FPU_LOAD);
	}
	/* The registers no longer hold this task's state. */
	fpu->last_cpu = -1;
	__this_cpu_write(fpu_fpregs_owner_ctx, NULL);
	ret = copy_uabi_from_kernel_to_xstate(fpu->fpstate, buf,
					      &current->thread.pkru);
	fpregs_unlock();
	return ret;
}

/* The flags user space may set, as ptrace's putreg() (less TF and RF). */
#define CKPT_FLAG_MASK (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_DF | \
			X86_EFLAGS_OF | X86_EFLAGS_AC | X86_EFLAGS_NT)

/* Index of the registers in an image's cpu record. */
enum {
	R15, R14, R13, R12, BP, BX, R11, R10, R9, R8, AX, CX, DX, SI, DI,
	ORIG_AX, IP, CS, FLAGS, SP, SS, FS_BASE, GS_BASE, NR_CKPT_REGS
};

/* Checks the registers of an image's cpu record (23 values). */
int ckpt_check_regs(const u64 *r)
{
	if (r[CS] != __USER_CS || r[SS] != __USER_DS)
		return -EINVAL;
	if (r[FS_BASE] >= TASK_SIZE_MAX || r[GS_BASE] >= TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Sets the caller's user registers and fs/gs bases. The caller returns to
 * user space with them; ax is what the system call returns.
 */
int ckpt_set_regs(const u64 *r)
{
	struct pt_regs *regs = current_pt_regs();
	long ret;

	ret = ckpt_check_regs(r);
	if (ret)
		return ret;
	ret = do_arch_prctl_64(current, ARCH_SET_FS, r[FS_BASE]);
	if (!ret)
		ret = do_arch_prctl_64(current, ARCH_SET_GS, r[GS_BASE]);
	if (ret)
		return ret;

	regs->r15 = r[R15];
	regs->r14 = r[R14];
	regs->r13 = r[R13];
	regs->r12 = r[R12];
	regs->bp = r[BP];
	regs->bx = r[BX];
	regs->r11 = r[R11];
	regs->r10 = r[R10];
	regs->r9 = r[R9];
	regs->r8 = r[R8];
	regs->ax = r[AX];
	regs->cx = r[CX];
	regs->dx = r[DX];
	regs->si = r[SI];
	regs->di = r[DI];
	regs->orig_ax = r[ORIG_AX];
	regs->ip = r[IP];
	regs->sp = r[SP];
	regs->flags = (regs->flags & ~CKPT_FLAG_MASK) |
		      (r[FLAGS] & CKPT_FLAG_MASK);
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	return 0;
}

/*
 * Maps the vDSO of this kernel with its data pages at @vvar_start, where the
 * image had them. The sizes must match this kernel's vDSO, which must not be
 * mapped yet.
 */
int ckpt_map_vdso(unsigned long vvar_start, unsigned long vvar_len,
		  unsigned long vdso_len)
{
	const struct vdso_image *image = &vdso_image_64;
	int ret;

	if (vvar_len != -image->sym_vvar_start || vdso_len != image->size)
		return -EINVAL;
	ret = map_vdso_once(image, vvar_start);
	if (ret)
		return ret;
	/* The address is a hint: check that it was taken. */
	if ((unsigned long)current->mm->context.vdso != vvar_start + vvar_len)
		return -EBUSY;
	return 0;
}
