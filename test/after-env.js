// Each test starts without sign-ins remembered by an earlier one (src/resume.ts).
afterEach(() => {
  if (typeof sessionStorage !== 'undefined') {
    sessionStorage.clear();
  }
});
