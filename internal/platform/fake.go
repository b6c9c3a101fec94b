package platform

import "errors"

// FakeEnv is the Env of a made-up host, for tests of FindClient and its
// callers: files are the absolute paths that exist, "PATH:name" puts name on
// PATH (found as /path/name), and "<path>+boto3" makes the python3 at path
// import boto3.
func FakeEnv(goos string, env map[string]string, files ...string) Env {
	has := map[string]bool{}
	for _, f := range files {
		has[f] = true
	}
	return Env{
		GOOS:   goos,
		Getenv: func(k string) string { return env[k] },
		LookPath: func(name string) (string, error) {
			if has["PATH:"+name] {
				return "/path/" + name, nil
			}
			return "", errors.New("not on PATH")
		},
		Exists: func(p string) bool { return has[p] },
		Works:  func(name string, _ ...string) bool { return has[name+"+boto3"] },
	}
}
