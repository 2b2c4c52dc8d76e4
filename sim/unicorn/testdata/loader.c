// loader runs an osrsim image natively: it maps every PT_LOAD segment of
// the ELF file that `osrsim image --elf` writes (package sim/elf) at its
// address, calls the entry like the native engine does (a SysV call with
// one argument) and prints what it returned. It exists so that valgrind's
// tools can run the very image the emulator runs (BenchmarkSeedSpeed).
//
//	loader IMAGE.elf ARG
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void die(const char *what) {
	perror(what);
	exit(2);
}

static int prot_of(uint32_t flags) {
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s IMAGE.elf ARG\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		die(argv[1]);
	if (fseek(f, 0, SEEK_END) != 0)
		die("fseek");
	long n = ftell(f);
	rewind(f);
	unsigned char *file = malloc(n);
	if (!file || fread(file, 1, n, f) != (size_t)n)
		die("read");
	fclose(f);

	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	if (n < (long)sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_machine != EM_X86_64) {
		fprintf(stderr, "%s: not an x86-64 ELF file\n", argv[1]);
		return 2;
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff + (size_t)i * eh->e_phentsize);
		if (ph->p_type != PT_LOAD)
			continue;
		// Regions are page-aligned and page-sized (sim.Image.Validate).
		void *at = (void *)(uintptr_t)ph->p_vaddr;
		void *p = mmap(at, ph->p_memsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != at)
			die("mmap");
		memcpy(p, file + ph->p_offset, ph->p_filesz);
		if (mprotect(p, ph->p_memsz, prot_of(ph->p_flags)) != 0)
			die("mprotect");
	}
	uint64_t (*entry)(uint64_t) = (uint64_t(*)(uint64_t))(uintptr_t)eh->e_entry;
	printf("%llu\n", (unsigned long long)entry(strtoull(argv[2], NULL, 0)));
	return 0;
}
