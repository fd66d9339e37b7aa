#include "sandbox/syscall_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace vecrl::sandbox {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "the sandbox's seccomp filter knows x86_64 and aarch64"
#endif

constexpr uint32_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                     CLONE_NEWNET | CLONE_NEWCGROUP | 0x00000080 /* CLONE_NEWTIME */;

sock_filter load(uint32_t offset) { return BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset); }
sock_filter ret(uint32_t action) { return BPF_STMT(BPF_RET | BPF_K, action); }
sock_filter jump_eq(uint32_t value, uint8_t if_true, uint8_t if_false) {
  return BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, if_true, if_false);
}
uint32_t fail_with(int error) { return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(error) & SECCOMP_RET_DATA); }

// The system calls refused outright (EPERM).
const long kDenied[] = {
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register, __NR_unshare, __NR_setns, __NR_bpf,
    __NR_perf_event_open, __NR_keyctl, __NR_add_key, __NR_request_key, __NR_userfaultfd, __NR_ptrace,
    __NR_process_vm_readv, __NR_process_vm_writev, __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot,
    __NR_open_by_handle_at, __NR_init_module, __NR_finit_module, __NR_delete_module, __NR_kexec_load,
#ifdef __NR_kexec_file_load
    __NR_kexec_file_load,
#endif
#ifdef __NR_fsopen
    __NR_fsopen, __NR_fsmount, __NR_move_mount, __NR_open_tree,
#endif
};

}  // namespace

std::vector<sock_filter> box_syscall_filter() {
  std::vector<sock_filter> f;
  f.push_back(load(offsetof(seccomp_data, arch)));
  f.push_back(jump_eq(kArch, 1, 0));
  f.push_back(ret(SECCOMP_RET_KILL_PROCESS));
  f.push_back(load(offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 0, 1));
  f.push_back(ret(SECCOMP_RET_KILL_PROCESS));
#endif
  // socket(domain, ...): AF_UNIX only. The low word of args[0] on little-endian hosts.
  f.push_back(jump_eq(__NR_socket, 0, 4));
  f.push_back(load(offsetof(seccomp_data, args[0])));
  f.push_back(jump_eq(AF_UNIX, 0, 1));
  f.push_back(ret(SECCOMP_RET_ALLOW));
  f.push_back(ret(fail_with(EACCES)));
  // clone(flags, ...): no namespace flag.
  f.push_back(jump_eq(__NR_clone, 0, 4));
  f.push_back(load(offsetof(seccomp_data, args[0])));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kNamespaceFlags, 0, 1));
  f.push_back(ret(fail_with(EPERM)));
  f.push_back(ret(SECCOMP_RET_ALLOW));
  f.push_back(jump_eq(__NR_clone3, 0, 1));
  f.push_back(ret(fail_with(ENOSYS)));
  for (const long nr : kDenied) {
    f.push_back(jump_eq(static_cast<uint32_t>(nr), 0, 1));
    f.push_back(ret(fail_with(EPERM)));
  }
  f.push_back(ret(SECCOMP_RET_ALLOW));
  return f;
}

// Runs in the box's child (see VECRL_CHILD_CODE in sandbox.cpp): uninstrumented.
__attribute__((no_sanitize("address", "undefined"))) int install_syscall_filter(const std::vector<sock_filter>& program) {
  sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
}

}  // namespace vecrl::sandbox
