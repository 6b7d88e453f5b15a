/* Deliberately invalid OpenCL C: the build-failure test expects its compiler log. */
__kernel void broken(__global float* x) {
    x[0] = undeclared_identifier_here;
}
