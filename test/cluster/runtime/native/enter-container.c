/*
 * enter-container: the last step before a container's command (or a command exec'd into it) runs,
 * done as runc's init does it (libcontainer/init_linux.go: finalizeNamespace, setupUser,
 * capabilities): chroot into the container's root, switch to its user, leave the process with the
 * container's capability set, then exec. The test cluster's launchers (util-linux unshare/nsenter)
 * create the namespaces as root with every capability; this runs last, in those namespaces.
 *
 *   enter-container --root DIR --wd DIR --uid N --gid N --caps HEX [--no-new-privs]
 *                   [--ptrace-scope N] [--yama-view] -- COMMAND [ARG...]
 *
 * Capabilities (containerd/runc since containerd 1.6.2): bounding = permitted = effective = the
 * set, inheritable and ambient empty. For uid 0 the set survives execve; for any other uid execve
 * leaves permitted and effective empty, since the kernel grants file capabilities to root only
 * (kubernetes/kubernetes#56374: capabilities added to a non-root container are not effective).
 *
 * --ptrace-scope: Yama's ptrace_scope for this process (security/yama/yama_lsm.c). The kernel here
 * has no Yama and refuses BPF LSM programs (bpf(BPF_PROG_LOAD) of lsm/ and fentry/ programs fails
 * with EPERM), so a seccomp filter stands in for it: under 1 and 2 a process without CAP_SYS_PTRACE,
 * under 3 every process, gets EPERM from ptrace(PTRACE_ATTACH/PTRACE_SEIZE), process_vm_readv,
 * process_vm_writev and pidfd_getfd — the calls that check PTRACE_MODE_ATTACH — and under 2 and 3
 * from PTRACE_TRACEME. What Yama does and this does not: scope 1 lets a process attach to its own
 * descendants (here refused too), and opening /proc/PID/mem (a path seccomp cannot see) stays allowed.
 *
 * --yama-view: shows /proc/sys/kernel/yama/ptrace_scope in the container's /proc (this kernel has
 * no /proc/sys/kernel/yama): a read-only tmpfs over ROOT/proc/sys/kernel that holds yama/ptrace_scope
 * and, bind-mounted back, every real entry of the directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#define CAP_SYS_PTRACE_BIT 19

struct options {
	const char *root, *wd;
	uid_t uid;
	gid_t gid;
	uint64_t caps;
	int no_new_privs, ptrace_scope, yama_view;
	char **argv;
};

static void die(const char *what)
{
	fprintf(stderr, "enter-container: %s: %s\n", what, strerror(errno));
	exit(127);
}

static void usage(void)
{
	fprintf(stderr, "usage: enter-container --root DIR --wd DIR --uid N --gid N --caps HEX "
			"[--no-new-privs] [--ptrace-scope N] [--yama-view] -- COMMAND [ARG...]\n");
	exit(127);
}

static struct options parse(int argc, char **argv)
{
	struct options o = { .wd = "/" };
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(flag, "--no-new-privs")) o.no_new_privs = 1;
		else if (!strcmp(flag, "--yama-view")) o.yama_view = 1;
		else if (!value) usage();
		else if (!strcmp(flag, "--root")) o.root = value, i++;
		else if (!strcmp(flag, "--wd")) o.wd = value, i++;
		else if (!strcmp(flag, "--uid")) o.uid = strtoul(value, NULL, 10), i++;
		else if (!strcmp(flag, "--gid")) o.gid = strtoul(value, NULL, 10), i++;
		else if (!strcmp(flag, "--caps")) o.caps = strtoull(value, NULL, 16), i++;
		else if (!strcmp(flag, "--ptrace-scope")) o.ptrace_scope = atoi(value), i++;
		else usage();
	}
	if (!o.root || i + 1 >= argc) usage();
	o.argv = argv + i + 1;
	return o;
}

/* snprintf into a PATH_MAX buffer; a path that does not fit is an error, never truncated */
static void pathf(char *buf, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	int n = vsnprintf(buf, PATH_MAX, fmt, args);
	va_end(args);
	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		die(fmt);
	}
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd) < 0) die(path);
}

static void yama_view(const char *root, int scope)
{
	char dir[PATH_MAX], path[PATH_MAX], source[PATH_MAX];
	pathf(dir, "%s/proc/sys/kernel", root);
	int real = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	DIR *listing = opendir(dir);
	if (real < 0 || !listing) die(dir);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555,size=64k")) die("mount tmpfs");
	struct dirent *e;
	while ((e = readdir(listing))) {
		if (e->d_name[0] == '.') continue;
		pathf(path, "%s/%s", dir, e->d_name);
		pathf(source, "/proc/self/fd/%d/%s", real, e->d_name);
		int made = e->d_type == DT_DIR ? mkdir(path, 0555) : close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444));
		if (made || mount(source, path, NULL, MS_BIND | MS_REC, NULL)) die(path);
	}
	closedir(listing);
	close(real);
	pathf(path, "%s/yama", dir);
	if (mkdir(path, 0555)) die(path);
	pathf(path, "%s/yama/ptrace_scope", dir);
	char value[8];
	snprintf(value, sizeof value, "%d\n", scope);
	write_file(path, value, 0644);
	if (mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) die("remount ro");
}

#define DENY BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void ptrace_policy(int scope)
{
	/* jump offsets count the instructions in between: keep the layout in step with them */
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		ALLOW,
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_getfd, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 2, 0),
		ALLOW,
		DENY,
		/* ptrace: the request is the low word of the first argument */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_ATTACH, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_SEIZE, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_TRACEME, scope >= 2 ? 1 : 0, 0),
		ALLOW,
		DENY,
	};
	struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) die("seccomp");
}

static void set_capabilities(const struct options *o)
{
	for (int cap = 0; cap < 64; cap++)
		if (!(o->caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) die("drop bounding capability");
	if (setgroups(0, NULL) || setresgid(o->gid, o->gid, o->gid) || setresuid(o->uid, o->uid, o->uid)) die("switch user");
	/* a uid other than 0 has lost permitted and effective already; inheritable goes for everyone */
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	if (o->uid == 0) {
		if (syscall(SYS_capget, &header, data)) die("capget");
		uint64_t permitted = ((uint64_t)data[1].permitted << 32 | data[0].permitted) & o->caps;
		data[0].permitted = data[0].effective = (uint32_t)permitted;
		data[1].permitted = data[1].effective = (uint32_t)(permitted >> 32);
		data[0].inheritable = data[1].inheritable = 0;
	}
	if (syscall(SYS_capset, &header, data)) die("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) die("clear ambient capabilities");
}

int main(int argc, char **argv)
{
	struct options o = parse(argc, argv);
	if (o.yama_view) yama_view(o.root, o.ptrace_scope);
	if (chroot(o.root)) die("chroot");
	if (chdir(o.wd)) die("chdir to working directory");
	int traces_freely = o.uid == 0 && (o.caps & (1ULL << CAP_SYS_PTRACE_BIT));
	if (o.ptrace_scope == 3 || (o.ptrace_scope > 0 && !traces_freely)) ptrace_policy(o.ptrace_scope);
	set_capabilities(&o);
	if (o.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("no_new_privs");
	execvp(o.argv[0], o.argv);
	fprintf(stderr, "enter-container: exec %s: %s\n", o.argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
