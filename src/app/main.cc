#include "app/cli.h"

int main(int argc, char** argv) {
  return obsforge::app::Main(argc, argv);
}
