from configparser import ConfigParser
import re
import setuptools

# nbdev 2 project: all metadata lives in settings.ini (no pkg_resources: setuptools 82+ dropped it)
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

# SPDX expressions (setuptools 77+ deprecates License :: classifiers in favour of these)
licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT', 'gpl2': 'GPL-2.0-only', 'gpl3': 'GPL-3.0-only', 'bsd3': 'BSD-3-Clause'}
statuses = [ '0 - Pre-Planning', '1 - Planning', '2 - Pre-Alpha', '3 - Alpha',
    '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.9 3.10 3.11 3.12 3.13'.split()

requirements = cfg.get('requirements','').split()
if cfg.get('pip_requirements'): requirements += cfg.get('pip_requirements','').split()
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), cfg['license'])
dev_requirements = (cfg.get('dev_requirements') or '').split()
package_data = {cfg['lib_name']: cfg.get('package_data', '').split()} if cfg.get('package_data') else {}

def _ver(v): return tuple(int(p) for p in v.split('.'))

def absolute_links(md, blob, raw):
    "Markdown `md` with its relative link targets under `blob/` (images under `raw/`), code blocks and code spans left alone."
    link = re.compile(r'(!?)(\[[^\]\n]*\])\(\s*(?![A-Za-z][\w+.-]*:|#|/)([^)\s]+)')
    parts = re.split(r'(```.*?```|`[^`\n]*`)', md, flags=re.DOTALL)  # odd parts: code, kept as it is
    return ''.join(p if i % 2 else link.sub(lambda m: f"{m[1]}{m[2]}({raw if m[1] else blob}/{m[3]}", p) for i, p in enumerate(parts))

# The README links to the chapters by paths relative to the repository, which a package index cannot follow: there
# they point at the files in the repository instead.
readme = absolute_links(open('README.md', encoding='utf-8').read(), f"{cfg['git_url']}/blob/{cfg['branch']}",
                        f"{cfg['git_url']}/raw/{cfg['branch']}")

setuptools.setup(
    name = cfg['lib_name'],
    license = lic,
    classifiers = [
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions if _ver(o) >= _ver(min_python)],
    url = cfg['git_url'],
    packages = setuptools.find_namespace_packages(include=[cfg['lib_name'], cfg['lib_name'] + '.*']),
    include_package_data = True,
    package_data = package_data,
    install_requires = requirements,
    extras_require = {'dev': dev_requirements},
    dependency_links = cfg.get('dep_links','').split(),
    python_requires = '>=' + cfg['min_python'],
    long_description = readme,
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts','').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
    **setup_cfg)
